"""Structured data for search engines: schema.org JSON-LD for briefing pages.

Owns the `NewsArticle` description of a briefing, serialised so it is safe inside a
`<script>` element. May not render templates, or write files.
"""

from __future__ import annotations

import json

from briefings.archive import Entry
from briefings.config import SiteConfig


def news_article(config: SiteConfig, entry: Entry, image: str | None) -> str:
    """Return the JSON-LD NewsArticle of a briefing, escaped for an HTML script element."""
    b = entry.briefing
    author = {"@type": "Organization", "name": entry.source.name, **({"url": b.source.url} if b.source.url else {})}
    # What search engines read for a news article (Google's list); the rest is on the page.
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": b.title,
        "datePublished": b.date.isoformat(timespec="seconds"),
        "inLanguage": b.language or config.language,
        "author": author,
    }
    if b.modified != b.date:  # a briefing never updated has no date of modification to tell
        data["dateModified"] = b.modified.isoformat(timespec="seconds")
    if image:
        data["image"] = [image]
    # Compact: the page's description, Open Graph tags and visible text already carry the rest.
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    # "</script>" or "<!--" inside a string must not end or confuse the script element.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
