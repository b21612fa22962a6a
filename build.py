#!/usr/bin/env python3
"""Build the briefings archive into _site/ (`python build.py --help`)."""

import sys
from pathlib import Path

from briefings.cli import main

if __name__ == "__main__":
    sys.exit(main(default_root=Path(__file__).resolve().parent))
