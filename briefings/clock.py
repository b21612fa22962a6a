"""The build's clock: what time it is for publishing, and how long that answer holds.

Owns reading the time a build publishes at (the real time, or `SOURCE_DATE_EPOCH` when set,
the reproducible-builds convention, so tests and reproducible builds fix it) and the clock's
*position*: between which two events (a scheduled briefing falling due, a briefing leaving
the news sitemap's window) the build happened. Two builds at one position publish the same
site. And how a moment is written for readers (fixed English names: output must not
depend on locale). May not write files, or know pages or templates.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from briefings.errors import BuildFailed, SourceError

NEWS_WINDOW = timedelta(days=2)  # Google News lists articles published in the last two days
MONTHS = ("January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December")  # fmt: skip


@dataclass(frozen=True)
class Position:
    """The span of time in which a build's publishing decisions stay the same: [since, until) in POSIX seconds."""

    since: float = -math.inf
    until: float = math.inf

    def holds(self, moment: datetime) -> bool:
        """Return True when a build at `moment` would publish what this position's build published."""
        return self.since <= moment.timestamp() < self.until


def build_time(environ: Mapping[str, str] | None = None) -> datetime:
    """Return the time the build publishes at: `SOURCE_DATE_EPOCH` (seconds since 1970, UTC) when set, else now."""
    value = (os.environ if environ is None else environ).get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return datetime.now(UTC)
    if not value.isdigit():
        message = f'SOURCE_DATE_EPOCH is "{value}"; set it to whole seconds since 1970-01-01 UTC, or unset it'
        raise BuildFailed([SourceError("SOURCE_DATE_EPOCH", 0, message)])
    return datetime.fromtimestamp(int(value), UTC)


def position(now: datetime, moments: Iterable[float], news: bool) -> Position:
    """Return the clock's position among the events the moments (POSIX timestamps) of the
    archive's briefings make: each moment (a briefing falls due) and, with the news sitemap,
    each moment two days on (it leaves it)."""
    moment = now.timestamp()
    events = list(moments)
    if news:
        window = NEWS_WINDOW.total_seconds()
        events += [stamp + window for stamp in events]
    since = max(filter(moment.__ge__, events), default=-math.inf)  # (filtered in C: 100,000 moments)
    until = min(filter(moment.__lt__, events), default=math.inf)
    return Position(since, until)


def is_due(date: datetime, now: datetime) -> bool:
    """Return True when a briefing dated `date` is published at `now` (not scheduled)."""
    return date <= now


def human_moment(moment: datetime) -> str:
    """Return "3 December 2026, 06:00 (UTC+3)": when a scheduled briefing goes live, as written."""
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    zone = "UTC" if minutes == 0 else f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}, {moment:%H:%M} ({zone})"
