"""`python build.py new "Title"`: start a briefing with complete front matter.

Owns the text of a new briefing: the title, the date and time now in the site's timezone,
the values given on the command line, and a `TODO:` placeholder for everything else, which
`check` reports until it is replaced. Never overwrites a file. May not build or check the site.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from briefings.config import SiteConfig
from briefings.schema import PLACEHOLDER
from briefings.urls import slugify


class NotCreated(Exception):
    """The briefing was not written: the reason is the message."""


@dataclass(frozen=True)
class Draft:
    """What `new` was given: a title, and optionally a region, tags and a source."""

    title: str
    region: str | None = None
    tags: tuple[str, ...] = ()
    source: str | None = None


def briefing_text(config: SiteConfig, draft: Draft, now: datetime) -> str:
    """Return the Markdown of a new briefing, placeholders marked with PLACEHOLDER."""
    regions = ", ".join(r.name for r in config.regions)
    tags = draft.tags or (f"{PLACEHOLDER} a tag", f"{PLACEHOLDER} another tag")
    lines = [
        "---",
        f"title: {_quoted(draft.title)}",
        f"date: {now.isoformat(timespec='seconds')}",
        f"summary: {_quoted(PLACEHOLDER + ' one or two sentences for listings, feeds and search results')}",
        "source:",
        f"  name: {_quoted(draft.source or PLACEHOLDER + ' who reported it')}",
        "  # url: https://... (the original report, if it is online)",
        f"credit: {_quoted(PLACEHOLDER + ' who is credited, e.g. Reporting by Reuters')}",
        f"region: {_quoted(draft.region or PLACEHOLDER + ' one of ' + regions)}",
        "countries: []",
        f"tags: [{', '.join(_quoted(tag) for tag in tags)}]",
        "---",
        f"{PLACEHOLDER} write the briefing here, in your own words, and credit the source.",
        "",
    ]
    return "\n".join(lines)


def _quoted(text: str) -> str:
    """Return a YAML double-quoted string (always safe: titles contain colons and quotes)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def check_region(config: SiteConfig, region: str) -> None:
    """Raise NotCreated unless `region` is one of site.yaml's regions."""
    names = [r.name for r in config.regions]
    if region in names:
        return
    hint = difflib.get_close_matches(region, names, n=1)
    fix = f'did you mean "{hint[0]}"?' if hint else "use one of: " + ", ".join(names)
    raise NotCreated(f'--region: "{region}" is not a region of site.yaml; {fix}')


def create(root: Path, config: SiteConfig, draft: Draft, now: datetime) -> Path:
    """Write `content/<year>/<slug>.md` for the draft and return its path; never overwrite."""
    if not draft.title.strip():
        raise NotCreated('the title is empty; write it in quotes: python build.py new "What happened"')
    if draft.region is not None:
        check_region(config, draft.region)
    target = root / "content" / f"{now.year:04d}" / f"{slugify(draft.title)}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with target.open("x", encoding="utf-8") as file:  # "x": fails if the file exists
            file.write(briefing_text(config, draft, now))
    except FileExistsError:
        shown = target.relative_to(root).as_posix()
        raise NotCreated(f"{shown} already exists; edit it, or choose another title") from None
    return target
