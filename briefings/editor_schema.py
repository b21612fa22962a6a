"""The JSON Schema of front matter (`python build.py schema`, committed as briefing.schema.json).

Owns describing, for editors and other tools, the rules the checker applies to front
matter, from the same constants: field names and which are required (`content.FIELDS`,
`REQUIRED`), text limits (`content.LIMITS`), the date, slug, language and path patterns,
and the regions of site.yaml as an enum. What a schema cannot say (a date that does not
exist, the file's folder matching its year, links between briefings) stays the checker's.
Values are as an editor's YAML 1.2 parser sees them: dates are strings, `2016` a number.
May not do I/O.
"""

from __future__ import annotations

import json
from typing import Any

from briefings.config import SiteConfig
from briefings.content import FIELDS, ISO_RE, LANGUAGE_TAG_RE, LIMITS, REQUIRED
from briefings.schema import PLACEHOLDER
from briefings.urls import SITE_PATH_RE, SLUG_RE

DRAFT = "http://json-schema.org/draft-07/schema#"  # what VS Code's YAML language server reads best
URL_PATTERN = r"^https?://[^\s/?#]+[^\s]*$"


def text(limit: int | None = None, description: str = "") -> dict[str, Any]:
    """A text value: not empty, not a `new` placeholder; a number is text as written."""
    schema: dict[str, Any] = {
        "type": ["string", "number"],
        "minLength": 1,
        "pattern": r"\S",
        "not": {"type": "string", "pattern": rf"^\s*{PLACEHOLDER}"},
    }
    if limit:
        schema["maxLength"] = limit
    if description:
        schema["description"] = description
    return schema


def text_list(items: dict[str, Any], most: int, least: int = 0, description: str = "") -> dict[str, Any]:
    """A YAML list (`[a, b]`) of items."""
    schema = {"type": "array", "items": items, "minItems": least, "maxItems": most, "description": description}
    return {key: value for key, value in schema.items() if value or key == "minItems"}


def pattern(regex: str, description: str) -> dict[str, Any]:
    """A string matching a checker's regular expression (Python's and ECMA's syntax agree on these)."""
    return {"type": "string", "pattern": regex, "description": description}


def front_matter_schema(config: SiteConfig) -> dict[str, Any]:
    """Return the schema of a briefing's front matter under this site.yaml."""
    date = pattern(ISO_RE.pattern, "ISO 8601: 2015-09-24 or 2015-09-24T10:00:00+03:00 (no offset: the site's timezone)")
    url = {"type": "string", "pattern": URL_PATTERN, "description": "an http(s) URL"}
    source_name = text(LIMITS["source name"], "who reported it")
    properties: dict[str, Any] = {
        "title": text(LIMITS["title"], "the headline, plain text"),
        "date": date,
        "summary": text(LIMITS["summary"], "one or two sentences: listings, feeds and the page description"),
        "source": {
            "description": "a name, or {name, url}",
            "oneOf": [
                source_name,
                {
                    "type": "object",
                    "properties": {"name": source_name, "url": url},
                    "required": ["name"],
                    "additionalProperties": False,
                },
            ],
        },
        "credit": text(LIMITS["credit"], "who is credited for the material"),
        "region": {"enum": [r.name for r in config.regions], "description": "one of site.yaml's regions"},
        "countries": text_list(text(LIMITS["country"]), LIMITS["countries"], description="country names"),
        "tags": text_list(text(LIMITS["tag"]), LIMITS["tags"], least=1, description="1 to 12 tags"),
        "image": {
            "type": "object",
            "properties": {
                "src": text(description="a path under static/ such as /images/photo.jpg, or an http(s) URL"),
                "alt": text(LIMITS["image alt"], "what the image shows, for readers who cannot see it"),
                "caption": text(LIMITS["image caption"]),
            },
            "required": ["src", "alt"],
            "additionalProperties": False,
        },
        "updated": {**date, "description": "when it was last updated; not before date"},
        "draft": {"type": "boolean", "description": "true: built only with --drafts, never published"},
        "slug": pattern(SLUG_RE.pattern, "the URL slug instead of the file name: a-z, 0-9 and hyphens"),
        "corrections": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"date": date, "text": text(LIMITS["correction text"])},
                "required": ["date", "text"],
                "additionalProperties": False,
            },
        },
        "language": pattern(LANGUAGE_TAG_RE.pattern, "a BCP 47 tag (es, pt-BR) when not the site's language"),
        "aliases": text_list(
            pattern(SITE_PATH_RE.pattern, "an earlier path of this briefing, e.g. /2015/09/old-slug/"),
            LIMITS["aliases"],
            description="earlier URLs of this briefing: each gets a page that redirects here",
        ),
        "story": text(
            LIMITS["story"], "the developing story it is part of: briefings with one story share a page at /stories/"
        ),
    }
    assert tuple(properties) == FIELDS, "every front matter field is described, in the checker's order"
    return {
        "$schema": DRAFT,
        "title": f"Front matter of a briefing ({config.title})",
        "description": "Made by `python build.py schema` from the rules `python build.py check` applies.",
        "type": "object",
        "properties": properties,
        "required": list(REQUIRED),
        "additionalProperties": False,
    }


def schema_json(config: SiteConfig) -> str:
    """Return the schema as stable, readable JSON."""
    return json.dumps(front_matter_schema(config), indent=2, ensure_ascii=False) + "\n"
