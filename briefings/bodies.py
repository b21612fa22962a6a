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
import errno
import hmac
import operator
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Collection, Iterable, Iterator
from collections.abc import Set as AbstractSet
from pathlib import Path

from briefings.cache import seal
from briefings.errors import CacheDamaged
from briefings.markdown import BodyRef, fill

STORE_FILE = "bodies.sqlite"
TEMPORARY_PREFIX = "briefings-bodies-"  # then the pid of the build that made it
# Each body's HTML and words with their seals (keyed digests): what is read back is checked against them.
_CREATE_BODIES = (
    "CREATE TABLE IF NOT EXISTS bodies "
    "(digest TEXT PRIMARY KEY, html TEXT, words TEXT, html_seal BLOB, words_seal BLOB)"
)


class BodyStore:
    """Body templates by file digest, in one SQLite file."""

    def __init__(self, file: Path, stamp: str, key: bytes) -> None:
        self.file = file
        self.stamp = stamp  # engine version and parse settings: a different stamp empties the store
        self.key = key  # seals what is stored: anything changed behind the build's back is refused
        self._connection: sqlite3.Connection | None = None
        self._pid = -1
        # The digests stored, once read (`digests`), kept as this store changes them: a build asks
        # twice, before parsing and once planned (`keep_only`), each a pass over every row.
        self._stored: set[str] | None = None
        self._ahead: _DigestsRead | None = None  # the digests being read in a thread (`read_digests_ahead`)
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
            if self.file.is_dir() and not self.file.is_symlink():
                shutil.rmtree(self.file)
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
        rows = [(d, html, words, self._seal(d, html), self._seal(d, words)) for d, html, words in bodies]
        with _damage_reported(self.file), self._db() as db:
            db.executemany("INSERT OR REPLACE INTO bodies VALUES (?, ?, ?, ?, ?)", rows)
        if self._stored is not None:
            self._stored.update(row[0] for row in rows)

    def _seal(self, digest: str, text: str) -> bytes:
        return seal(self.key, digest.encode() + b"\0" + text.encode("utf-8", "surrogatepass"))

    def _checked(self, digest: str, text: str, stamp: bytes) -> str:
        """Return a stored text whose seal holds; raise CacheDamaged otherwise."""
        if not hmac.compare_digest(stamp, self._seal(digest, text)):
            raise CacheDamaged(f"{self.file.name}: a stored body was changed outside the build")
        return text

    def words(self, digests: Collection[str] | None = None) -> Iterator[tuple[str, str]]:
        """Yield (digest, words) of the stored bodies with these digests (all for None), for the search index."""
        with _damage_reported(self.file):
            if digests is None:
                rows = self._db().execute("SELECT digest, words, words_seal FROM bodies")
                yield from ((digest, self._checked(digest, words, stamp)) for digest, words, stamp in rows)
                return
            wanted = list(digests)
            for start in range(0, len(wanted), 500):  # SQLite takes up to 999 parameters
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT digest, words, words_seal FROM bodies WHERE digest IN ({marks})"
                for digest, words, stamp in self._db().execute(query, chunk):
                    yield digest, self._checked(digest, words, stamp)

    def read_digests_ahead(self) -> None:
        """Start reading the digest of every stored body (`digests`) in a thread of its own: SQLite
        reads them all as one text, in C and without the interpreter's lock, while the build goes
        on (at 100,000 briefings, 35 ms; the text is then made a set in 19, where reading row by
        row took 50). The thread is joined by `digests`, or by `finish_reading_ahead` before the
        build forks."""
        if self._stored is None and self._ahead is None:
            self._ahead = _DigestsRead(self.file)

    def finish_reading_ahead(self) -> None:
        """Wait until the digests read ahead (`read_digests_ahead`) are read: before the build forks."""
        if self._ahead is not None:
            self._ahead.join()

    def digests(self) -> AbstractSet[str]:
        """Return the digest of every stored body: read ahead, or read now."""
        if self._stored is None and self._ahead is not None:
            self._ahead.join()
            if isinstance(self._ahead.text, str):  # else read again, and said as ever
                self._stored = set(self._ahead.text.split())
            self._ahead = None
        if self._stored is None:
            with _damage_reported(self.file):
                self._stored = set(map(operator.itemgetter(0), self._db().execute("SELECT digest FROM bodies")))
        return self._stored

    def keep_only(self, digests: set[str]) -> None:
        """Delete the bodies of files that are gone or changed."""
        stale = self.digests() - digests
        if stale:
            with _damage_reported(self.file), self._db() as db:
                db.executemany("DELETE FROM bodies WHERE digest = ?", ((d,) for d in stale))
            assert self._stored is not None  # (read by `digests` above)
            self._stored -= stale

    def html(self, body: BodyRef) -> str:
        """Return a body's HTML with its links in place."""
        if body.inline is not None:
            return body.inline
        with _damage_reported(self.file):
            row = self._db().execute("SELECT html, html_seal FROM bodies WHERE digest = ?", (body.digest,)).fetchone()
        if row is None:
            raise CacheDamaged(f"{self.file.name}: the body of {body.digest} is missing")
        return fill(self._checked(body.digest, row[0], row[1]), body.hrefs)

    def close(self) -> None:
        """Close this process's connection."""
        if self._connection is not None and self._pid == os.getpid():
            self._connection.close()
        self._connection = None


class _DigestsRead(threading.Thread):
    """Reads the digest of every body in a store, on a connection of its own, as one text of
    them joined by spaces (a digest is hex): `text`, once joined; None if SQLite could not."""

    def __init__(self, file: Path) -> None:
        super().__init__(name="briefings-body-digests", daemon=True)
        self.file = file
        self.text: str | None = None
        self.start()

    def run(self) -> None:
        with contextlib.suppress(sqlite3.Error), contextlib.closing(sqlite3.connect(self.file)) as db:
            self.text = db.execute("SELECT group_concat(digest, ' ') FROM bodies").fetchone()[0] or ""


@contextlib.contextmanager
def _damage_reported(file: Path) -> Iterator[None]:
    """Turn SQLite's word that the file is damaged (or the disk full) into one the build reports in a line."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if "full" in str(exc):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(file)) from None
        raise CacheDamaged(f"{file.name}: {exc}") from None


@contextlib.contextmanager
def body_store(cache_folder: Path | None, stamp: str, key: bytes) -> Iterator[BodyStore]:
    """Yield the store in `cache_folder`, or in a temporary folder removed afterwards (no cache).

    A temporary folder is named with this process's id; those of processes that are gone
    (a build killed with SIGKILL) are removed by the next build without the cache.
    """
    if cache_folder is None:
        remove_orphans()
    temporary = None if cache_folder else Path(tempfile.mkdtemp(prefix=f"{TEMPORARY_PREFIX}{os.getpid()}-"))
    store = BodyStore((cache_folder or temporary or Path()) / STORE_FILE, stamp, key)
    try:
        yield store
    finally:
        store.close()
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)


def remove_orphans(folder: Path | None = None) -> None:
    """Remove the temporary body stores of builds that are no longer running."""
    for leftover in Path(folder or tempfile.gettempdir()).glob(f"{TEMPORARY_PREFIX}*-*"):
        pid = leftover.name.removeprefix(TEMPORARY_PREFIX).partition("-")[0]
        if pid.isdigit() and not _running(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
