"""The build cache under `.cache/`: parsed records, the state of output folders, and what stages remember.

Owns reading and writing the cache files. Everything here is an optimisation: a missing,
stale, damaged or foreign cache file is ignored, and deleting `.cache/` only makes the
next build a cold one. Every file is stamped with the engine version (a digest of this
package's source), so a new version of the generator never reads an old cache.

Nothing is loaded unverified: each file carries a seal, a digest of its bytes keyed with
the cache's own random key (`.cache/key`), checked before anything is unpickled, and the
unpickler builds only the package's dataclasses and a few value types (never a function
call), so a damaged or planted file is a miss, not code that runs. What the seal can and
cannot promise is in docs/reference.md. Files are replaced atomically (temporary file,
then rename). May not hold build logic.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import hashlib
import hmac
import importlib.util
import io
import itertools
import operator
import os
import pickle
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from zoneinfo import ZoneInfo

from briefings.ahead import NOT_READ, NotRead, ReadAhead
from briefings.clock import Position
from briefings.collector import out_of_sight
from briefings.errors import CacheDamaged
from briefings.tables import listed_alike

if TYPE_CHECKING:
    from briefings.compiled import SealedBytecodeCache
    from briefings.records import Record

CACHE_DIR = ".cache"
KEY_FILE = "key"
_MAGIC = b"briefings-cache-3\n"  # then the seal, a pickle of (engine, settings) and one of the value
SEAL_SIZE = 32
# What a cache file may hold besides the package's dataclasses: (module, name) of value types.
_VALUE_TYPES = {
    ("builtins", "set"), ("builtins", "frozenset"), ("datetime", "datetime"), ("datetime", "date"),
    ("datetime", "timezone"), ("datetime", "timedelta"), ("zoneinfo", "ZoneInfo"),
}  # fmt: skip
# The functions a cache file may call besides: each makes only an object of a class the package
# marked (`frozen.compact_dict_pickle`), or an archive's entry, from values.
_CALLS = {("briefings.frozen", "remade"), ("briefings.archive", "unmade_entry")}


def _zone_getattr(owner: object, name: str) -> Any:
    """The one `getattr` a cache file may call: pickle reaches `ZoneInfo._unpickle` (a time zone) so.

    A general `getattr` would let a file walk from any class it may build to any function.
    """
    if owner is ZoneInfo and name == "_unpickle":
        return ZoneInfo._unpickle  # type: ignore[attr-defined]
    raise pickle.UnpicklingError(f"getattr({owner!r}, {name!r}) is not something a cache file may call")


class _ValuesOnly(pickle.Unpickler):
    """Unpickles the package's dataclasses and plain values; refuses every other global (no code runs)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("builtins", "getattr"):
            return _zone_getattr
        if (module, name) in _VALUE_TYPES or (module, name) in _CALLS:
            return super().find_class(module, name)
        if module.startswith("briefings.") and "." not in name:
            found = super().find_class(module, name)
            if isinstance(found, type) and dataclasses.is_dataclass(found):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not a value a cache file may hold")


def sealer(key: bytes) -> hmac.HMAC:
    """Return what makes a seal: HMAC-SHA-256 under the cache's key, fed the bytes in order.

    Not keyed BLAKE2b, which serves as well: SHA-256 runs in the processor's own instructions
    where it has them (most x86 since about 2017-2019, 64-bit ARM), and there seals twice as
    fast; without them, 1.7x slower (`bench.seals`, docs/performance.md). Every file a build
    loads is sealed first (about 150 MB a one-edit build at 100,000 briefings), and a cache
    restored on another machine must check out there: one algorithm serves all.
    """
    return hmac.new(key, digestmod="sha256")


def seal(key: bytes, *parts: bytes | memoryview) -> bytes:
    """Return the keyed digest that vouches for bytes the cache wrote (`parts`, one after another)."""
    sealing = sealer(key)
    for part in parts:
        sealing.update(part)
    return sealing.digest()


class _Sealed:
    """A file that seals what is written to it as it goes (`seal` of all of it, in order)."""

    def __init__(self, file: BinaryIO, sealing: hmac.HMAC) -> None:
        self.file, self.sealing = file, sealing

    def write(self, data: bytes | memoryview) -> int:
        self.sealing.update(data)
        return self.file.write(data)


# How a file looked: (mtime ns, ctime ns, size, inode, device). A content file's when its digest
# was taken (`sources.read_content`); a cache file's when it was read ahead (`Cache.read_ahead`).
Signature = tuple[int, int, int, int, int]
signature_of: Callable[[os.stat_result], Signature] = operator.attrgetter(
    "st_mtime_ns", "st_ctime_ns", "st_size", "st_ino", "st_dev"
)


def _read_sealed(folder: Path, key: bytes, name: str) -> tuple[Signature, bytes] | None:
    """Return a cache file's payload (what follows its seal), with the signature of the file it
    was read from, if its seal holds; None if it is not there, or of an earlier format.
    Raises ValueError if the seal does not hold."""
    try:  # the head apart from the rest: a slice of the whole would copy the rest (86 MB, the model)
        with open(folder / name, "rb", buffering=0) as file:  # noqa: PTH123
            signature = signature_of(os.fstat(file.fileno()))
            head, payload = file.read(len(_MAGIC) + SEAL_SIZE), file.readall()
    except OSError:  # not there (or not a file): a miss
        return None
    if not head.startswith(_MAGIC):  # an earlier version's format: a miss, nothing to report
        return None
    if not hmac.compare_digest(head[len(_MAGIC) :], seal(key, payload)):
        raise ValueError("its seal does not hold")
    return signature, payload


def _size(file: Path) -> int:
    """Return a file's size; 0 if it cannot be read (gone, or a link to nothing)."""
    try:
        return file.stat().st_size
    except OSError:
        return 0


def cache_key(folder: Path) -> bytes:
    """Return the cache's random key, made on first use (readable by its owner only)."""
    file = folder / KEY_FILE
    try:
        key = file.read_bytes()
        if len(key) == 32:
            return key
    except OSError:
        pass
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Made by build.py: safe to delete.\n*\n", encoding="utf-8")
    key = os.urandom(32)
    descriptor, temp = tempfile.mkstemp(prefix=".new.", dir=folder)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key)
    replace_path(Path(temp), file)
    return key


def replace_path(temp: Path, target: Path) -> None:
    """Move `temp` to `target`, removing a folder that stands where a cache file should be."""
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    temp.replace(target)


def _slot_file(slot: str, inputs: bytes) -> str:
    """Return the cache file a slot kept for these inputs is in (`Cache.remember_for`)."""
    return f"{slot}-{inputs.hex()[:32]}.pickle"


def table_files(name: str) -> tuple[str, str]:
    """Return the cache files of the tables kept under `name` (`Cache.remember_tables`): the
    tables whole, and what changed since."""
    return f"{name}.pickle", f"{name}.since.pickle"


def _name_in(folder: Path, file: Path) -> str:
    """Return a cache file's name: its path in the cache's folder."""
    return file.relative_to(folder).as_posix()


def slot_files(slot: str) -> str:
    """Return the glob of the files a slot may be in (it keeps one at a time: `Cache.remember_for`)."""
    return f"{slot}-*.pickle"


LOAD_ORDER = "load_order.pickle"  # the files the last build loaded after `Cache.read_ahead`, in order
LOAD_ORDER_AT_MOST = 64  # names in it
# Bytes from which the files to load are read ahead: below, a thread cost more than it saved
# (1,000 briefings, 2.5 MB: 3% slower; docs/performance.md, "Cache files read ahead").
READ_AHEAD_FROM = 32_000_000
RECORD_INDEX = "records"  # tables of every record's `Summary`, as `records.index_rows` gives them
SHARDS_PER_FOLDER = 16  # a year of 10,000 briefings in files of about 0.6 MB


def _shard(path: str) -> str:
    """Return the cache file of a content file's record: one of SHARDS_PER_FOLDER per folder
    (`content/2015`), by the file's name. An edit rewrites one small file, and loading them
    is many short steps, not one long one the preview's instant page would wait behind
    (a thread cannot run while another is inside one call to the unpickler)."""
    folder, _, name = path.rpartition("/")
    bucket = hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=2).digest()[0] % SHARDS_PER_FOLDER
    return hashlib.blake2b(folder.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest() + f"-{bucket:02d}.pickle"


# The libraries whose output is in the site (Markdown, templates, YAML, time zones), as
# (module, distribution): a new version may change the output.
LIBRARIES = (
    ("markdown_it", "markdown-it-py"), ("mdit_py_plugins", "mdit-py-plugins"), ("mdurl", "mdurl"),
    ("linkify_it", "linkify-it-py"), ("nh3", "nh3"), ("jinja2", "Jinja2"), ("markupsafe", "MarkupSafe"),
    ("yaml", "PyYAML"), ("tzdata", "tzdata"),
)  # fmt: skip


def engine_version() -> str:
    """Return a digest of this package's source, the versions of the libraries that shape the
    output, and the Python version and byte order of the cache."""
    versions = " ".join(f"{dist}={_version(module, dist)}" for module, dist in LIBRARIES)
    digest = hashlib.blake2b(f"{sys.version} {sys.byteorder} {versions}".encode(), digest_size=16)
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def _version(module: str, dist: str) -> str:
    """Return an installed library's version from the name of its `.dist-info` folder beside it
    ("absent": tzdata, where the system's time zones serve). `importlib.metadata` would take
    a tenth of a no-change build to import."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        return "absent"
    folder = Path(spec.origin).parent.parent
    wanted = re.sub(r"[-_.]+", "_", dist).lower() + "-"
    found = [n for n in os.listdir(folder) if n.lower().startswith(wanted) and n.endswith(".dist-info")]  # noqa: PTH208
    return found[0][len(wanted) : -len(".dist-info")] if len(found) == 1 else "unknown"


# What a build reports: pages, files, briefings, and (kind, terms) for each kind of listing.
Counts = tuple[int, int, int, tuple[tuple[str, int], ...], int]  # pages, files, briefings, terms, scheduled
# An output file as recorded: its key, the digest of its bytes, and its size.
FileState = tuple[str, str, int]
# What a site holds: (kind of output, files, bytes), largest first.
Sizes = tuple[tuple[str, int, int], ...]


@dataclass
class TreeState:
    """What an output folder holds: its inode, and each file's output key, content digest and size."""

    inode: int = -1
    files: dict[str, FileState] = field(default_factory=dict)  # by path


@dataclass
class OutputState:
    """The live output folder and its spare copy (the previous version, reused by the next build)."""

    live: TreeState = field(default_factory=TreeState)
    spare: TreeState = field(default_factory=TreeState)
    inputs: str = ""  # digest of every input of the build that made `live`
    listed: str = ""  # the same, content files taken by their signatures ("" when they could not be)
    counts: Counts | None = None  # what that build reported
    sizes: Sizes = ()
    position: Position = field(
        default_factory=Position
    )  # the span of time in which that build's clock would publish the same
    # The kept keys of the plan `live` was made from (`outputs.Plan.kept_as`; b"": not known), and
    # the group of each output that plan planned afresh (a few dozen after an edit), by path.
    plan: bytes = b""
    fresh: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KeptTables:
    """Tables (dicts) kept whole, with the token that the changes kept since name (`TablesSince`)."""

    token: bytes
    tables: tuple[dict[Any, Any], ...]
    rest: object  # kept with them, whole


@dataclass(frozen=True)
class TablesSince:
    """What changed in each table of the `KeptTables` with this `token` since they were kept:
    rows added or changed, keys removed; and the `rest` now. An edit at 100,000 briefings
    changes a few of 108,000 rows: saving these few costs what the change costs."""

    token: bytes
    changed: tuple[dict[Any, Any], ...]
    removed: tuple[frozenset[Any], ...]
    rest: object


@dataclass(frozen=True)
class _Base:
    """The `KeptTables` a build loaded (as loaded: never handed out), to save its changes against."""

    inputs: object
    kept: KeptTables


SINCE_AT_MOST = 10  # changes to more than this share of the rows are kept as new `KeptTables` instead
_ABSENT = object()


def unlike(base: dict[Any, Any], now: dict[Any, Any]) -> Iterator[tuple[Any, Any]]:
    """Yield the rows of `now` (key, row) that are not the same object as `base`'s row of that
    key: every row changed, and some equal. Found in C: where the rows not changed are shared
    (`remember_tables`), a few of 100,000 rows are then compared in Python, not all. Where both
    hold the same keys in the same order (an edit), row by place: at 100,000 rows, 7 ms with
    the check of the keys, against 16 to 22 ms looking up each key."""
    if listed_alike(base, now):
        differ = map(operator.is_not, base.values(), now.values())
    else:
        differ = map(operator.is_not, map(base.get, now, itertools.repeat(_ABSENT)), now.values())
    return itertools.compress(now.items(), differ)


def changes(base: dict[Any, Any], now: dict[Any, Any]) -> tuple[dict[Any, Any], frozenset[Any]]:
    """Return the rows of `now` that `base` lacks or holds otherwise, and the keys only `base` has."""
    changed = {key: row for key, row in unlike(base, now) if base.get(key, _ABSENT) != row}
    kept = len(now) - sum(key not in base for key in changed)  # the keys of `base` that `now` has
    if kept == len(base):  # all of them: none removed, found without a set of every key (20 ms at 100,000)
        return changed, frozenset()
    return changed, frozenset(base.keys() - now.keys())


def applied(base: dict[Any, Any], changed: dict[Any, Any], removed: Iterable[Any]) -> dict[Any, Any]:
    """Return a new table: `base` with the `changes` made."""
    table = base | changed
    for key in removed:
        table.pop(key, None)
    return table


@dataclass(frozen=True)
class BuildStamp:
    """What a no-change build needs of the output folder's state (`OutputState`), kept apart from
    the file list (16 MB at 100,000 briefings), so that deciding there is nothing to do is cheap."""

    inode: int  # of the live folder
    inputs: str
    listed: str
    counts: Counts
    sizes: Sizes
    position: Position


_ANY = object()  # settings `Cache._stored` takes any of


class _Stopped(Exception):
    """A cache file's loading stopped as its caller asked (`Cache.load_early`)."""


class _Watched(io.BytesIO):
    """A cache file's payload that asks `until` before each read (an unpickler reads a 64 KB frame
    at a time) and raises `_Stopped` once it is True."""

    def __init__(self, payload: bytes, until: Callable[[], bool]) -> None:
        super().__init__(payload)
        self._until = until

    def read(self, size: int | None = -1) -> bytes:
        if self._until():
            raise _Stopped
        return super().read(size)

    def readinto(self, buffer: Any) -> int:
        if self._until():
            raise _Stopped
        return super().readinto(buffer)


@dataclass(frozen=True)
class _Early:
    """A cache file's value as loaded, with the settings it was stored with and the file's signature."""

    signature: Signature
    settings: object
    value: Any


class Cache:
    """The `.cache/` folder of one archive."""

    def __init__(self, root: Path, engine: str | None = None) -> None:
        self.folder = root / CACHE_DIR
        self.engine = engine or engine_version()
        self._key: bytes | None = None
        self.damaged: list[str] = []  # cache files found damaged (or not the build's), ignored
        self._bases: dict[str, _Base] = {}  # by name: the tables `recall_tables` loaded
        self._ahead: ReadAhead[tuple[Signature, bytes] | None] | None = None  # files read ahead (`read_ahead`)
        self._noted: list[str] | None = None  # the files loaded since `read_ahead`, in order (globs of slots)
        self._order_was: tuple[str, ...] = ()  # the last build's (`LOAD_ORDER`)
        self._early: dict[str, _Early] = {}  # files loaded before they were asked for (`load_early`), by name
        self._stopped: list[pickle.Unpickler] = []  # loads `load_early` stopped, with what they had loaded

    @property
    def key(self) -> bytes:
        """Return the key the cache's seals are made with."""
        if self._key is None:
            self._key = cache_key(self.folder)
        return self._key

    def read_ahead(self) -> list[str]:
        """Start reading and sealing, in a thread of their own (`ahead.ReadAhead`), the files the
        last build loaded from this point of it on, in its order (`keep_load_order`), if they
        hold `READ_AHEAD_FROM` bytes or more, but those loaded early (`load_early`); note those
        this build loads from here on, for the next. Return the files read ahead.

        What the thread read is used only if the file is still the one it read (a file this build
        wrote since is read again), and only in this process: `finish_reading_ahead` ends the
        thread before the build forks. Anything but a sound read (a seal that does not hold) is
        read again where it is loaded, and dealt with there as ever.
        """
        order = self._load(LOAD_ORDER, None)
        self._order_was = order if isinstance(order, tuple) and all(isinstance(n, str) for n in order) else ()
        self._noted = []
        names = (_name_in(self.folder, file) for glob in self._order_was for file in self.folder.glob(glob))
        sizes = {name: _size(self.folder / name) for name in names if name not in self._early}
        if sum(sizes.values()) < READ_AHEAD_FROM:
            return []
        read = [name for name, size in sizes.items() if size]
        self._ahead = ReadAhead(functools.partial(_read_sealed, self.folder, self.key), read)
        return read

    def finish_reading_ahead(self) -> None:
        """Wait until the files read ahead are read (`read_ahead`): before the build first forks."""
        if self._ahead is not None:
            self._ahead.finish()

    def keep_load_order(self) -> None:
        """Keep the order in which this build loaded files since `read_ahead`, for the next to read
        them ahead (if it differs from the last build's), and let go of those read ahead and not loaded,
        and of those loaded early and not taken (the preview's later builds hold this cache: its loader of records)."""
        if self._noted is not None:
            order = tuple(dict.fromkeys(self._noted))[:LOAD_ORDER_AT_MOST]
            if order != self._order_was:
                self._save(LOAD_ORDER, None, order)
            self._noted = None
        if self._ahead is not None:
            self._ahead.finish()
            self._ahead = None
        self.let_go_early()

    def compiled_templates(self) -> SealedBytecodeCache:
        """Return where Jinja keeps compiled templates between builds."""
        from briefings.compiled import SealedBytecodeCache  # with Jinja: loaded by the builds that render alone

        return SealedBytecodeCache(self.folder / "templates", self.key, self.engine)

    def clear(self) -> None:
        """Empty the cache (a damaged one): the next build is a cold one."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self._key = None

    def load_record_index(self, settings: object) -> tuple[object, object]:
        """Return what `save_records` kept of every cached record (`records.index_rows`: read
        by `records.summaries_from`) and with them, if they were made with these settings; else None and None."""
        for temporary in (*self.folder.glob(".new.*"), *self.folder.glob("records/.new.*")):
            temporary.unlink(missing_ok=True)  # left by a build killed while saving
        kept = self.recall_tables(RECORD_INDEX, settings)
        return (kept[0][0], kept[1]) if kept and len(kept[0]) == 1 else (None, None)

    def load_records(self, settings: object, paths: Iterable[str] | None = None) -> dict[str, Record]:
        """Return the cached records by file path, made with these settings: those of `paths`
        (with the others kept beside them), or every one. Their index lists them (see
        `save_records`), so a shard that cannot be loaded is damage (`CacheDamaged`)."""
        folder = self.folder / "records"
        names = sorted(s.name for s in folder.glob("*.pickle")) if paths is None else {_shard(p) for p in paths}
        records: dict[str, Record] = {}
        for name in names:
            stored = self._load(f"records/{name}", settings)
            if not isinstance(stored, dict):
                raise CacheDamaged(f"records/{name}: missing, damaged or not written by this build")
            records.update(stored)
        return records

    def save_records(
        self,
        settings: object,
        index: dict[str, tuple[Any, ...]],
        fresh: dict[str, Record],
        removed: set[str],
        rest: object = None,
    ) -> None:
        """Store the records parsed since the cached ones (`fresh`) and forget the `removed` ones,
        rewriting only the shards (see `_shard`) that hold them, then the index of every record
        (`index`, as `records.index_rows` gives it: written last, so a shard may be newer than
        it, never older), with `rest` (what the build worked out from the index)."""
        folder = self.folder / "records"
        folder.mkdir(parents=True, exist_ok=True)
        changes: dict[str, dict[str, Record | None]] = {}
        for path, record in [*((path, None) for path in removed), *fresh.items()]:
            changes.setdefault(_shard(path), {})[path] = record
        rewritten = set()
        for name, changed in changes.items():
            stored = self._load(f"records/{name}", settings)
            shard = {path: record for path, record in (stored or {}).items() if path not in changed}
            shard.update((path, record) for path, record in changed.items() if record is not None)
            if shard:
                self._save(f"records/{name}", settings, shard)
                rewritten.add(name)
            else:  # its files were all removed
                (folder / name).unlink(missing_ok=True)
        if len(fresh) == len(index):  # every record is new: no other shard holds one of them
            for stale in folder.glob("*.pickle"):
                if stale.name not in rewritten:
                    stale.unlink()
        self.remember_tables(RECORD_INDEX, settings, (index,), rest)

    def recall(self, name: str, inputs: object) -> object:
        """Return what a stage remembered under `name` from equal `inputs` (see `keys.Memo`), or None."""
        return self._load(f"{name}.pickle", inputs)

    def remember(self, name: str, inputs: object, value: object) -> None:
        """Keep `value`, worked out from `inputs`, under `name` for the next build."""
        self._save(f"{name}.pickle", inputs, value)

    def set_aside(self, name: str, as_name: str) -> None:
        """Keep what was remembered under `name` under `as_name` instead (none: none), for
        `recall(as_name, ...)`: the file is moved, not read. Its seal holds under any name."""
        kept, aside = self.folder / f"{name}.pickle", self.folder / f"{as_name}.pickle"
        try:
            replace_path(kept, aside)
        except FileNotFoundError:
            aside.unlink(missing_ok=True)

    def forget(self, name: str) -> None:
        """Drop what was remembered under `name`, if anything."""
        (self.folder / f"{name}.pickle").unlink(missing_ok=True)

    def recall_for(self, slot: str, inputs: bytes) -> object:
        """Return what `remember_for` kept in `slot` for these inputs (a digest), or None. The file
        is named for its inputs, so a slot kept for others costs no read (it may be large)."""
        return self._load(_slot_file(slot, inputs), inputs, noted=slot_files(slot))  # (one file a slot)

    def remember_for(self, slot: str, inputs: bytes, value: object) -> None:
        """Keep `value` in `slot` for these inputs, in place of what the slot held."""
        name = _slot_file(slot, inputs)
        self._save(name, inputs, value)
        for other in self.folder.glob(slot_files(slot)):
            if other.name != name:
                other.unlink(missing_ok=True)

    def recall_tables(self, name: str, inputs: object) -> tuple[tuple[dict[Any, Any], ...], object] | None:
        """Return the tables and the rest that `remember_tables` kept under `name` from equal
        `inputs` (new dicts, the caller's to change), or None.

        A file of changes that cannot be read makes the whole a miss: the tables without it would be stale.
        """
        whole, changes_since = table_files(name)
        kept = self._load(whole, inputs)
        if not isinstance(kept, KeptTables):
            return None
        damaged = len(self.damaged)
        since = self._load(changes_since, inputs)
        if len(self.damaged) > damaged:
            return None
        self._bases[name] = _Base(inputs, kept)
        if not isinstance(since, TablesSince) or since.token != kept.token:  # none, or older than the tables
            return tuple(dict(table) for table in kept.tables), kept.rest
        tables = tuple(map(applied, kept.tables, since.changed, since.removed))
        return tables, since.rest

    def remember_tables(self, name: str, inputs: object, tables: tuple[dict[Any, Any], ...], rest: object) -> None:
        """Keep `tables` (dicts) and `rest` under `name` for the next build. Of the tables this
        cache recalled from equal inputs, only what changed since is written, while it is a small
        share of them (`SINCE_AT_MOST`); else all of them, whole. A row's value is never changed
        in place: the tables recalled share their values with those kept to tell what changed.
        Those are let go here (a few MB each at 100,000 briefings): a build remembers a table once."""
        whole, changes_since = table_files(name)
        base = self._bases.pop(name, None)
        if base is not None and base.inputs == inputs and len(base.kept.tables) == len(tables):
            found = [changes(was, now) for was, now in zip(base.kept.tables, tables, strict=True)]
            size = sum(len(changed) + len(removed) for changed, removed in found)
            if size * SINCE_AT_MOST <= sum(map(len, base.kept.tables)):
                changed, removed = zip(*found, strict=True) if found else ((), ())
                self._save(changes_since, inputs, TablesSince(base.kept.token, changed, removed, rest))
                return
        self._save(whole, inputs, KeptTables(os.urandom(8), tables, rest))  # a changes file left
        (self.folder / changes_since).unlink(missing_ok=True)  # beside it would name another token

    def load_outputs(self, name: str) -> OutputState:
        """Return the state of the output folder `name` (e.g. `_site`), or an empty one."""
        stored = self.recall_tables(f"outputs{name}", None)
        if stored is None:
            return OutputState()
        (live, spare), rest = stored
        if not isinstance(rest, OutputState):
            return OutputState()
        live_state, spare_state = TreeState(rest.live.inode, live), TreeState(rest.spare.inode, spare)
        return dataclasses.replace(rest, live=live_state, spare=spare_state)

    def save_outputs(self, name: str, state: OutputState) -> None:
        """Store the state of the output folder `name`, and its stamp (`BuildStamp`) after it: a stamp
        is never newer than the state it summarises."""
        (self.folder / f"stamp{name}.pickle").unlink(missing_ok=True)
        files = (state.live.files, state.spare.files)  # kept as tables; the rest of the state beside them
        rest = dataclasses.replace(state, live=TreeState(state.live.inode), spare=TreeState(state.spare.inode))
        self.remember_tables(f"outputs{name}", None, files, rest)
        if state.counts is not None and state.inputs:
            stamp = BuildStamp(state.live.inode, state.inputs, state.listed, state.counts, state.sizes, state.position)
            self._save(f"stamp{name}.pickle", None, stamp)

    def unchanged_build(
        self, target: Path, now: datetime, *, inputs: str = "", listed: str = ""
    ) -> tuple[Counts, Sizes] | None:
        """Return the counts and sizes of the build that made `target` if it had these exact inputs
        (`inputs`, or `listed`: see `OutputState`), its clock was at the position `now` is (no
        briefing fell due since), and it is intact.

        Found unchanged by `inputs` with a new `listed` (files touched, their bytes the same), the
        stamp takes it, so that the next build decides from the listing alone.
        """
        stamp = self._load(f"stamp{target.name}.pickle", None)
        if not isinstance(stamp, BuildStamp) or not (inputs or listed):
            return None
        try:
            intact = target.stat().st_ino == stamp.inode and not self.is_changing(target.name)
        except FileNotFoundError:
            return None
        by_content, by_listing = bool(inputs) and stamp.inputs == inputs, bool(listed) and stamp.listed == listed
        same = (by_content or by_listing) and stamp.position.holds(now)
        if not (intact and same):
            return None
        if inputs and listed and stamp.listed != listed:
            self._save(f"stamp{target.name}.pickle", None, dataclasses.replace(stamp, listed=listed))
        return stamp.counts, stamp.sizes

    def last_counts(self, target: Path) -> Counts | None:
        """Return the counts of the build that made `target` (`BuildStamp`), if one is recorded."""
        stamp = self._load(f"stamp{target.name}.pickle", None)
        return stamp.counts if isinstance(stamp, BuildStamp) else None

    def mark_changing(self, name: str) -> None:
        """Note that output folder `name` or its spare is being changed: its recorded state is not to be trusted."""
        self.folder.mkdir(exist_ok=True)
        (self.folder / f"changing{name}").touch()

    def done_changing(self, name: str) -> None:
        """Note that the recorded state of output folder `name` is true again."""
        (self.folder / f"changing{name}").unlink(missing_ok=True)

    def is_changing(self, name: str) -> bool:
        """Return True when a build stopped while changing output folder `name`."""
        return (self.folder / f"changing{name}").exists()

    def spare_folder(self, name: str) -> Path:
        """Return where the spare copy of output folder `name` lives."""
        return self.folder / f"spare{name}"

    def load_early(self, *patterns: str, until: Callable[[], bool] = lambda: False) -> bool:
        """Load now the files these glob patterns name (`model-*.pickle`: a slot's one file),
        whatever settings they were kept with, for the `_load` that asks for one of them later
        in this build: it takes the value if the file is unchanged since and was kept with the
        settings it asks for. For a build with time to spare now: the parent of a child listing
        the content (`pipeline`). A file that cannot be loaded so is left to that `_load`, which
        says why; the values not taken are let go by `let_go_early`.

        `until` is asked as each file's value is read (every 64 KB of it, as the unpickler reads
        its frames): once it is True, the loading stops, keeping nothing of that file, and this
        returns False (True when every file was loaded). What it raises is not raised here."""
        for pattern in patterns:
            for name in sorted(_name_in(self.folder, file) for file in self.folder.glob(pattern)):
                try:
                    if name not in self._early and (early := self._stored(name, _ANY, until)) is not None:
                        self._early[name] = early
                except _Stopped:
                    return False
                except Exception:  # noqa: BLE001 - (see above)
                    continue
        return True

    def let_go_early(self, pattern: str = "*") -> None:
        """Let go of the values `load_early` loaded that no `_load` took, of the files the glob
        pattern names (every one by default): a model of another shape (hundreds of MB at 100,000
        briefings), before the build makes its own. What a stopped load had made goes too."""
        for name in [name for name in self._early if fnmatch.fnmatchcase(name, pattern)]:
            del self._early[name]
        self._stopped.clear()

    def _load(self, name: str, settings: object, noted: str = "") -> Any:
        """Return what `_save` stored under `name` with these settings; None for anything else.
        Since `read_ahead`, each file loaded is noted by its name (a slot's by the glob of its one
        file, `noted`), for the next build to read ahead; it is taken from the thread reading ahead
        if that read it and it is unchanged since, or from what `load_early` loaded of it."""
        if self._noted is not None:
            self._noted.append(noted or name)
        early = self._early.get(name)
        if early is not None and self._unchanged(name, early.signature):
            if early.settings != settings:  # kept for a load that asks with its settings (a retag's plan asks twice)
                return None
            del self._early[name]
            return early.value
        self._early.pop(name, None)
        del early
        try:
            stored = self._stored(name, settings)
            return stored.value if stored is not None else None
        except Exception:  # noqa: BLE001 - damaged, or not written by this cache: not used, and said
            self.damaged.append(f"{CACHE_DIR}/{name}")
            return None

    def _stored(self, name: str, settings: object, until: Callable[[], bool] | None = None) -> _Early | None:
        """Return what `_save` stored under `name`, with the settings it was stored with and the
        signature of the file: None if it is not there, or was stored by another engine or with
        other settings than these (any, for `_ANY`: its value is not even read otherwise). Read by
        the thread reading ahead if it read it and it is unchanged since, or here. Raises what a
        damaged file, or one not written by this cache, makes the reading raise; `_Stopped` once
        `until`, asked as the value is read, is True (`load_early`)."""
        ahead = self._ahead.take(name) if self._ahead is not None else NOT_READ
        read = None if isinstance(ahead, NotRead) or ahead is None or not self._unchanged(name, ahead[0]) else ahead
        del ahead
        read = read or _read_sealed(self.folder, self.key, name)  # (read here unless read ahead)
        if read is None:
            return None
        signature, stream = read[0], (io.BytesIO(read[1]) if until is None else _Watched(read[1], until))
        del read  # (its payload goes with the stream)
        engine, stored_settings = _ValuesOnly(stream).load()
        if engine != self.engine or (settings is not _ANY and stored_settings != settings):
            return None  # another engine's, or made from other inputs
        values = _ValuesOnly(stream)  # a pickle of its own (its memo counts from nothing)
        with out_of_sight():  # kept for the build, and plain data: nothing for the collector
            try:
                return _Early(signature, stored_settings, values.load())
            except _Stopped:  # what it loaded goes with the cache, not now: half a model took 45 ms to free
                self._stopped.append(values)
                raise

    def _unchanged(self, name: str, signature: Signature) -> bool:
        """Return True if the file `name` has this signature (it was not written again since)."""
        try:
            return signature_of((self.folder / name).stat()) == signature
        except OSError:
            return False

    def _save(self, name: str, settings: object, value: object) -> None:
        self.folder.mkdir(exist_ok=True)
        ignore = self.folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Made by build.py: safe to delete.\n*\n", encoding="utf-8")
        header = pickle.dumps((self.engine, settings), protocol=pickle.HIGHEST_PROTOCOL)
        descriptor, temp = tempfile.mkstemp(prefix=".new.", dir=(self.folder / name).parent)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(_MAGIC + bytes(SEAL_SIZE))  # the seal's place, written once the rest is
                sealed = _Sealed(file, sealer(self.key))
                sealed.write(header)
                # Pickled straight to the file as it is sealed: in memory first, the model (86 MB at
                # 100,000 briefings) would raise the build's peak by as much.
                pickle.Pickler(sealed, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
                file.seek(len(_MAGIC))
                file.write(sealed.sealing.digest())
            replace_path(Path(temp), self.folder / name)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
