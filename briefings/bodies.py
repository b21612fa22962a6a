"""Rendered bodies, kept on disk: memory grows with the model of the archive, not its text.

Owns the body store, an SQLite file (`.cache/bodies.sqlite`, or a temporary one for
`--no-cache`) holding each briefing's body template (HTML with link placeholders) and the words search
finds it by, by the digest of its file. The model keeps only a `BodyRef` per briefing: that digest and the
resolved hrefs. Whoever renders a page or a feed asks the store for the HTML; each
process opens its own connection, so forked workers read it directly. The store is an
optimisation like the rest of `.cache/`: stamped with the engine version and the parse
settings, emptied when either differs, and checked against the records that refer to it.
May not know what a page is.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path

from briefings.markdown import BodyRef, fill

STORE_FILE = "bodies.sqlite"
_CREATE_BODIES = "CREATE TABLE IF NOT EXISTS bodies (digest TEXT PRIMARY KEY, html TEXT, words TEXT)"


class BodyStore:
    """Body templates by file digest, in one SQLite file."""

    def __init__(self, file: Path, stamp: str) -> None:
        self.file = file
        self.stamp = stamp  # engine version and parse settings: a different stamp empties the store
        self._connection: sqlite3.Connection | None = None
        self._pid = -1
        self._prepare()

    def _prepare(self) -> None:
        """Open the store, starting afresh if it is unreadable or was made with another stamp."""
        self.file.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = self._db()
            row = db.execute("SELECT value FROM meta WHERE key = 'stamp'").fetchone()
            if row is None or row[0] != self.stamp:
                with db:  # another engine may have stored another shape of table
                    db.execute("DROP TABLE IF EXISTS bodies")
                    db.execute(_CREATE_BODIES)
                    db.execute("INSERT OR REPLACE INTO meta VALUES ('stamp', ?)", (self.stamp,))
        except sqlite3.DatabaseError:  # corrupt or foreign: the cache is only an optimisation
            self.close()
            self.file.unlink(missing_ok=True)
            with self._db() as db:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('stamp', ?)", (self.stamp,))

    def _db(self) -> sqlite3.Connection:
        """Return this process's connection (a forked worker opens its own)."""
        if self._connection is None or self._pid != os.getpid():
            self._connection = sqlite3.connect(self.file)
            self._pid = os.getpid()
            self._connection.execute("PRAGMA synchronous = OFF")  # a lost write only costs a re-parse
            self._connection.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            self._connection.execute(_CREATE_BODIES)
        return self._connection

    def put(self, bodies: Iterable[tuple[str, str, str]]) -> None:
        """Store (digest, template HTML, the words search finds it by) triples."""
        with self._db() as db:
            db.executemany("INSERT OR REPLACE INTO bodies VALUES (?, ?, ?)", bodies)

    def words(self, digests: Collection[str] | None = None) -> Iterator[tuple[str, str]]:
        """Yield (digest, words) of the stored bodies with these digests (all for None), for the search index."""
        if digests is None:
            yield from self._db().execute("SELECT digest, words FROM bodies")
            return
        wanted = list(digests)
        for start in range(0, len(wanted), 500):  # SQLite takes up to 999 parameters
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            yield from self._db().execute(f"SELECT digest, words FROM bodies WHERE digest IN ({marks})", chunk)

    def digests(self) -> set[str]:
        """Return the digest of every stored body."""
        return {row[0] for row in self._db().execute("SELECT digest FROM bodies")}

    def keep_only(self, digests: set[str]) -> None:
        """Delete the bodies of files that are gone or changed."""
        stale = self.digests() - digests
        if stale:
            with self._db() as db:
                db.executemany("DELETE FROM bodies WHERE digest = ?", ((d,) for d in stale))

    def html(self, body: BodyRef) -> str:
        """Return a body's HTML with its links in place."""
        if body.inline is not None:
            return body.inline
        row = self._db().execute("SELECT html FROM bodies WHERE digest = ?", (body.digest,)).fetchone()
        if row is None:
            raise LookupError(f"no stored body for {body.digest}; delete .cache/ and build again")
        return fill(row[0], body.hrefs)

    def close(self) -> None:
        """Close this process's connection."""
        if self._connection is not None and self._pid == os.getpid():
            self._connection.close()
        self._connection = None


@contextlib.contextmanager
def body_store(cache_folder: Path | None, stamp: str) -> Iterator[BodyStore]:
    """Yield the store in `cache_folder`, or in a temporary folder removed afterwards (no cache)."""
    temporary = None if cache_folder else Path(tempfile.mkdtemp(prefix="briefings-bodies-"))
    store = BodyStore((cache_folder or temporary or Path()) / STORE_FILE, stamp)
    try:
        yield store
    finally:
        store.close()
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
