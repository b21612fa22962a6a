"""WebSub: telling the hub which feeds changed, so feed readers hear of new briefings without polling.

Owns `python build.py ping`: after a deploy, compare the built site's feeds with the record of
those the hub was last told about (`.cache/websub.json`: each feed's path and digest), and send
the hub one `hub.mode=publish` request per feed whose bytes changed, naming the feed by its
`self` URL (the topic its readers subscribed to). A hub that cannot be reached is reported,
never fatal: the deploy has happened, and the feeds it missed are sent again next time.
May not build or check the site.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ATOM_NS = "{http://www.w3.org/2005/Atom}"
RECORD = "websub.json"  # in .cache/
TIMEOUT = 10.0  # seconds a hub has to answer
RETRY_AFTER = 1.0  # seconds before the one retry


@dataclass(frozen=True)
class Feed:
    """A feed of the built site: its path, the digest of its bytes and its topic URL (its `self` link)."""

    path: str
    digest: str
    topic: str


@dataclass
class Outcome:
    """What a ping did: the topics the hub accepted, and what went wrong."""

    sent: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    first: bool = False  # no record of earlier feeds: recorded, nothing sent


Post = Callable[[str, bytes], int]  # (hub URL, form body) -> HTTP status; raises OSError when unreachable


def site_feeds(site: Path) -> list[Feed]:
    """Return every feed of a built site (Atom `feed.xml` files and `feed.json`), by path."""
    feeds = []
    for file in sorted(site.rglob("feed.xml")) + sorted(site.glob("feed.json")):
        data = file.read_bytes()
        topic = _json_topic(data) if file.suffix == ".json" else _atom_topic(data)
        if topic:
            path = file.relative_to(site).as_posix()
            feeds.append(Feed(path, hashlib.blake2b(data, digest_size=16).hexdigest(), topic))
    return feeds


def _atom_topic(data: bytes) -> str:
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return ""
    return next((link.get("href", "") for link in root.findall(f"{ATOM_NS}link") if link.get("rel") == "self"), "")


def _json_topic(data: bytes) -> str:
    try:
        url = json.loads(data).get("feed_url", "")
    except (ValueError, AttributeError):
        return ""
    return url if isinstance(url, str) else ""


def load_record(file: Path) -> dict[str, str] | None:
    """Return the digests of the feeds the hub was last told about, by path; None when there is no record."""
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not all(isinstance(v, str) for v in record.values()):
        return None
    return record


def ping(hub: str, feeds: list[Feed], record: dict[str, str] | None, post: Post) -> tuple[Outcome, dict[str, str]]:
    """Tell the hub of each feed whose digest differs from the record; return what happened and
    the new record (a feed the hub did not accept keeps its old digest, so it is sent next time)."""
    if record is None:
        return Outcome(first=True), {feed.path: feed.digest for feed in feeds}
    outcome, kept = Outcome(), dict(record)
    for feed in feeds:
        if record.get(feed.path) == feed.digest:
            continue
        problem = _publish(hub, feed.topic, post)
        if problem is None:
            outcome.sent.append(feed.topic)
            kept[feed.path] = feed.digest
            continue
        outcome.problems.append(problem)
        if "could not be reached" in problem:  # the hub is down: the rest would wait for it in vain
            break
    kept = {path: digest for path, digest in kept.items() if path in {feed.path for feed in feeds}}
    return outcome, kept


def _publish(hub: str, topic: str, post: Post) -> str | None:
    """Send one publish notification, retrying once; return what went wrong, or None."""
    body = urllib.parse.urlencode({"hub.mode": "publish", "hub.url": topic}).encode()
    problem = ""
    for attempt in range(2):
        if attempt:
            time.sleep(RETRY_AFTER)
        try:
            status = post(hub, body)
        except OSError as exc:
            reason = getattr(exc, "reason", None) or exc
            problem = f"the hub {hub} could not be reached ({reason}) for {topic}"
            continue
        if 200 <= status < 300:
            return None
        problem = f"the hub {hub} answered {status} for {topic}"
        if status < 500:  # the hub refused the request: sending it again will not help
            break
    return problem


def http_post(hub: str, body: bytes) -> int:
    """POST a form to the hub and return its HTTP status (an error status too)."""
    request = urllib.request.Request(hub, body, {"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
