#!/usr/bin/env python3
"""Build the briefings archive into _site/ (`python build.py --help`)."""

import sys  # always loaded already: nothing here can be interrupted halfway


def run() -> int:
    """Import and run the command line; imports happen inside, where Ctrl-C is handled."""
    from pathlib import Path

    try:
        from briefings.cli import end_now, main, missing_library

        if name := missing_library():  # imported only when there is work: found now, not halfway
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    except ModuleNotFoundError as missing:
        use_project_environment(Path(__file__).resolve().parent, missing)

    return main(default_root=Path(__file__).resolve().parent, end=end_now)


def use_project_environment(folder, missing):  # type: ignore[no-untyped-def]
    """Run again with the project's `.venv` (made by `make site`) when this Python lacks a dependency;
    without one (or in it already), say what to do and exit 2."""
    import os
    from pathlib import Path

    python = folder / ".venv" / "bin" / "python"
    if not python.is_file() or Path(sys.prefix).resolve() == python.parent.parent.resolve():
        print(f"error: {missing}; run `make site` first (it installs what build.py needs into .venv/)", file=sys.stderr)
        sys.exit(2)
    print(f"note: this Python has no {missing.name}; using .venv/bin/python (made by `make site`)", file=sys.stderr)
    os.execv(python, [str(python), *sys.argv])


if __name__ == "__main__":
    try:
        status = run()
    except KeyboardInterrupt:  # during the imports: the command itself reports its own interrupts
        print("interrupted; nothing was changed", file=sys.stderr)
        status = 130
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # done: an interrupt while Python shuts down changes nothing
    sys.exit(status)
