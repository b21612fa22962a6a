"""Time the body parser on the long and pathological bodies docs/reference.md quotes.

    python -m bench.markdown [--runs 5]

Renders, in this process, with the project's configured parser (`make_parser().render`):
unmatched emphasis (`*a **a ` repeated 20,000 and 100,000 times: upstream markdown-it-py
joins its text quadratically) and a generated release note of about 870 KB (headings,
lists with emphasis, code and links, bare links). Reports the median of `--runs`.
"""

from __future__ import annotations

import argparse
import statistics
import time

from briefings.markdown import make_parser

LINE = "* Fixed **the parser** with `code`, [a link](https://example.org/) and www.example.org.\n"
BODIES = {
    "unmatched emphasis x 20,000": "*a **a " * 20_000,
    "unmatched emphasis x 100,000": "*a **a " * 100_000,
    "release note": ("## Changes\n\n" + LINE * 40 + "\n") * 250,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    md = make_parser()
    for label, body in BODIES.items():
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            md.render(body)
            times.append(time.perf_counter() - started)
        print(f"{label} ({len(body.encode()) / 1000:.0f} KB): median {statistics.median(times):.2f} s of {runs}")


if __name__ == "__main__":
    main()
