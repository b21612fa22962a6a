"""Time sealing the cache files of a built archive, with the cache's seal and the one before it.

    python -m bench.seals <archive> [--runs 5]

Every file the cache loads is checked against its seal before it is unpickled (`cache.seal`),
so each build seals again every file it reads: at 100,000 briefings, about 150 MB for one
edit. This reads the archive's `.cache/*.pickle` files (not the body store, not the
records' shards) into memory, then times sealing all of them with HMAC-SHA-256, the cache's
seal since 32c51b3, and with keyed BLAKE2b, its seal before, in turn, `--runs` times each;
and prints each one's median (min to max) in milliseconds. Only the hashing is timed: the
files are read once, before.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from briefings.cache import CACHE_DIR, seal

Sealing = Callable[[bytes, bytes], bytes]


def blake2b(key: bytes, data: bytes) -> bytes:
    """The seal before 32c51b3: BLAKE2b keyed with the cache's key, 32 bytes."""
    return hashlib.blake2b(data, key=key, digest_size=32).digest()


SEALS: dict[str, Sealing] = {"HMAC-SHA-256 (cache.seal)": seal, "keyed BLAKE2b (before)": blake2b}


def cache_files(root: Path) -> list[bytes]:
    """Return the bytes of each pickle in the archive's cache folder (the records' shards left out)."""
    return [file.read_bytes() for file in sorted((root / CACHE_DIR).glob("*.pickle"))]


def measure(files: list[bytes], runs: int) -> dict[str, list[float]]:
    """Return the seconds each way of sealing took to seal every file, each run, taking them in turn."""
    key = os.urandom(32)
    times: dict[str, list[float]] = {name: [] for name in SEALS}
    for _ in range(runs):
        for name, sealing in SEALS.items():
            started = time.perf_counter()
            for data in files:
                sealing(key, data)
            times[name].append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("archive", type=Path, help="an archive built before (its .cache/ is read)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    files = cache_files(args.archive)
    if not files:
        raise SystemExit(f"{args.archive / CACHE_DIR}: no cache files; build the archive first")
    print(f"{len(files)} cache files, {sum(map(len, files)) / 1e6:.1f} MB")
    for name, seconds in measure(files, args.runs).items():
        low, mid, high = (1000 * s for s in (min(seconds), statistics.median(seconds), max(seconds)))
        print(f"{name}: {mid:.1f} ms ({low:.1f} to {high:.1f})")


if __name__ == "__main__":
    main()
