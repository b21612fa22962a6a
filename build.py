#!/usr/bin/env python3
"""Build the briefings archive into _site/ (`python build.py --help`)."""

import sys  # always loaded already: nothing here can be interrupted halfway


def run() -> int:
    """Import and run the command line; imports happen inside, where Ctrl-C is handled."""
    from pathlib import Path

    from briefings.cli import main

    return main(default_root=Path(__file__).resolve().parent)


if __name__ == "__main__":
    try:
        status = run()
    except KeyboardInterrupt:  # during the imports: the command itself reports its own interrupts
        print("interrupted; nothing was changed", file=sys.stderr)
        status = 130
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # done: an interrupt while Python shuts down changes nothing
    sys.exit(status)
