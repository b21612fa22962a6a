"""briefings: a static site generator for a news-briefings archive."""

__version__ = "0.1.0"
