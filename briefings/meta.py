"""Structured data for search engines: schema.org JSON-LD for briefing and story pages.

Owns the `NewsArticle` description of a briefing (with the story it is part of and its
corrections), the `CreativeWorkSeries` of a developing story and the site's publisher
(with its corrections policy and publishing principles, as the Trust Project's indicators
use them), serialised so they are safe inside a `<script>` element. May not render
templates, or write files.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from briefings.archive import Entry
from briefings.config import SiteConfig
from briefings.pages import TermInfo
from briefings.urls import term_path


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
    if entry.story is not None:
        data["isPartOf"] = _series(config, entry.story.name, term_path("stories", entry.story.slug))
    if b.corrections:
        data["correction"] = [
            {"@type": "CorrectionComment", "datePublished": c.date.isoformat(timespec="seconds"), "text": c.text}
            for c in b.corrections
        ]
    if publisher := _publisher(config):
        data["publisher"] = publisher
    return _script(data)


def story_series(config: SiteConfig, term: TermInfo, entries: Sequence[Entry]) -> str:
    """Return the JSON-LD CreativeWorkSeries of a developing story's page, with the briefings it shows."""
    data = {
        "@context": "https://schema.org",
        **_series(config, term.name, term_path(term.kind, term.slug)),
        **({"description": term.description} if term.description else {}),
        "hasPart": [
            {
                "@type": "NewsArticle",
                "headline": e.briefing.title,
                "url": config.absolute(e.path),
                "datePublished": e.briefing.date.isoformat(timespec="seconds"),
            }
            for e in entries
        ],
    }
    return _script(data)


def site_publisher(config: SiteConfig) -> str:
    """Return the JSON-LD of the site's publisher (for the corrections page), or "" when there is nothing to say."""
    publisher = _publisher(config)
    return _script({"@context": "https://schema.org", **publisher}) if publisher else ""


def _series(config: SiteConfig, name: str, path: str) -> dict[str, object]:
    return {"@type": "CreativeWorkSeries", "name": name, "url": config.absolute(path)}


def _publisher(config: SiteConfig) -> dict[str, object]:
    """Return the site as a NewsMediaOrganization with its policies, or {} when site.yaml names none."""
    policies = {
        "correctionsPolicy": config.corrections_policy,
        "publishingPrinciples": config.publishing_principles,
    }
    named = {key: config.policy_url(value) for key, value in policies.items() if value}
    if not named:
        return {}
    return {"@type": "NewsMediaOrganization", "name": config.title, "url": config.absolute(), **named}


def _script(data: dict[str, object]) -> str:
    # Compact: the page's description, Open Graph tags and visible text already carry the rest.
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    # "</script>" or "<!--" inside a string must not end or confuse the script element.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
