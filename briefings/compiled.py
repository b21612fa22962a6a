"""Jinja's compiled templates, kept between builds in the cache's `templates/` folder, each file sealed.

Owns that folder's files, as `cache` owns the others (the same seal, and the same atomic
replacement). Apart from `cache` so that a build with nothing to do never loads Jinja (a
sixth of such a build's time at 10,000 briefings). May not hold build logic.
"""

from __future__ import annotations

import hmac
import os
import tempfile
from pathlib import Path

import jinja2
import jinja2.bccache

from briefings.cache import SEAL_SIZE, replace_path, seal


class SealedBytecodeCache(jinja2.BytecodeCache):
    """Jinja's compiled templates, kept between builds in a folder, each file sealed.

    Jinja runs what it loads from here as code, so a file the build did not write (or one
    damaged since) is never loaded: its template is compiled again. Compiled code depends on
    the engine as well as on the template's source (how each filter is called is decided
    while compiling), so each file is sealed with the engine version too: another engine's
    file is compiled again, not run.
    """

    def __init__(self, folder: Path, key: bytes, engine: str) -> None:
        self.folder = folder
        self.key = key
        self.engine = engine.encode()

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Fill the bucket from its file, if that file is one this cache sealed."""
        try:
            data = (self.folder / f"{bucket.key}.cache").read_bytes()
        except OSError:
            return
        stamp, payload = data[:SEAL_SIZE], data[SEAL_SIZE:]
        if hmac.compare_digest(stamp, seal(self.key, self.engine, payload)):
            bucket.bytecode_from_string(payload)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        """Keep the bucket's compiled code, sealed; a cache that cannot be written is only slower."""
        payload = bucket.bytecode_to_string()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            descriptor, temp = tempfile.mkstemp(prefix=".new.", dir=self.folder)
            with os.fdopen(descriptor, "wb") as out:
                out.writelines((seal(self.key, self.engine, payload), payload))
            replace_path(Path(temp), self.folder / f"{bucket.key}.cache")
        except OSError:
            return
