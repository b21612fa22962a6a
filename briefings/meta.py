"""Structured data for search engines: schema.org JSON-LD for briefing pages.

Owns the `NewsArticle` description of a briefing, serialised so it is safe inside a
`<script>` element. May not render templates or write files.
"""

from __future__ import annotations

import json

from briefings.archive import Entry
from briefings.config import SiteConfig


def news_article(config: SiteConfig, entry: Entry, image: str | None) -> str:
    """Return the JSON-LD NewsArticle of a briefing, escaped for an HTML script element."""
    b = entry.briefing
    url = config.absolute(entry.path)
    author = {"@type": "Organization", "name": entry.source.name, **({"url": b.source.url} if b.source.url else {})}
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": b.title,
        "description": b.summary,
        "url": url,
        "mainEntityOfPage": url,
        "datePublished": b.date.isoformat(timespec="seconds"),
        "dateModified": b.modified.isoformat(timespec="seconds"),
        "articleSection": entry.region.name,
        "keywords": [tag.name for tag in entry.tags],
        "inLanguage": config.language,
        "author": author,
        "publisher": {"@type": "Organization", "name": config.title, "url": config.absolute()},
        "creditText": b.credit,
    }
    if b.source.url:
        data["isBasedOn"] = b.source.url
    if image:
        data["image"] = [image]
    text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
    # "</script>" or "<!--" inside a string must not end or confuse the script element.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
