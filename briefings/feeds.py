"""Machine-readable files: Atom feeds, JSON Feed, sitemap and robots.txt.

Owns entry ids (RFC 4151 `tag:` URIs from site.yaml's `id_authority`, the date as
written and the slug, so they survive changes of title, host and base path) and the
shape of every feed. Feed-level dates come from the briefings, never the clock.
May not write files.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, partial
from operator import itemgetter

from briefings.archive import Archive, Entry, Ref
from briefings.config import SiteConfig
from briefings.kinds import BY_NAME, KINDS
from briefings.markdown import BodyRef
from briefings.pages import CorrectionItem, corrections, term_feed_path
from briefings.urls import briefing_path_parts, src_url

ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
NEWS_SITEMAP = "news-sitemap.xml"
SITEMAP_LIMIT = 50_000  # URLs per sitemap file (sitemaps.org); beyond it, /sitemap.xml is an index
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the "updated" of a feed with no entries
_PLACEHOLDER_RE = re.compile(rb"<entry>\x00(\d+)\x00</entry>")
# A page the sitemap lists: its site path and its date of change, if it has one.
Listed = tuple[str, datetime | None]


def entry_id(config: SiteConfig, entry: Entry) -> str:
    """Return a briefing's permanent id: tag:<authority>:<date as written>:<slug>.

    A briefing that moved keeps the id of its first alias (`/2015/09/old-slug/`): that
    alias's year, month and slug, with the day of its date, so feed readers do not show it
    as new. (Only a date moved to another day as well as another month changes it.)
    """
    b = entry.briefing
    year, month, slug = b.date.year, b.date.month, b.slug
    first = next((parts for alias in b.aliases if (parts := briefing_path_parts(alias))), None)
    if first:
        year, month, slug = first
    return f"tag:{config.id_authority}:{year:04d}-{month:02d}-{b.date.day:02d}:{slug}"


@dataclass(frozen=True)
class AtomFeed:
    """What an Atom feed shows: the page it is the feed of ("" for the site), its title, its
    entries, and whether they carry their full text."""

    page_path: str
    title: str
    entries: tuple[Entry, ...]
    full: bool


@dataclass(frozen=True)
class JsonFeed:
    """What the JSON Feed shows: the same entries as the site's Atom feed."""

    entries: tuple[Entry, ...]
    full: bool


@dataclass(frozen=True)
class Sitemap:
    """The pages a sitemap lists: (site path, lastmod); `index`: the parts of a sitemap index instead."""

    locations: tuple[Listed, ...]
    index: bool = False


@dataclass(frozen=True)
class NewsSitemap:
    """Google News' sitemap: each recent briefing's (site path, title, date, language)."""

    items: tuple[tuple[str, str, datetime, str], ...]


@dataclass(frozen=True)
class CorrectionsFeed:
    """The Atom feed of the corrections record: an entry per correction, newest first."""

    items: tuple[CorrectionItem, ...]


@dataclass(frozen=True)
class Robots:
    """robots.txt: it names the sitemap, so it depends on the site's address only."""


FeedView = AtomFeed | JsonFeed | Sitemap | Robots | CorrectionsFeed | NewsSitemap
# A machine-readable file: (path, the view it is made from, how to make it from that view alone).
# The view is given by a function that makes it when first asked, and gives the same one after.
FeedJob = tuple[str, Callable[[], FeedView], Callable[[], bytes]]


def feed_jobs(
    config: SiteConfig, archive: Archive, listed: Sequence[Listed], body: Callable[[BodyRef], str]
) -> list[FeedJob]:
    """Return every feed, the sitemap and robots.txt, each with the view its bytes are made from.

    `config` is the site as feeds may see it (what their keys digest); `listed` are the site's
    pages (`pages.site_pages`) with their dates, for the sitemap; `body` returns a
    briefing's body HTML, for feeds with full text. A file's bytes are a function of its
    view, `config` and the bodies of the entries in the view, nothing else. Each view is made
    when first asked for: a plan that keys few outputs again makes only theirs (at 100,000
    briefings the sitemaps' views and the corrections took a sixth of a second).
    """
    settings = config.feeds
    atom = AtomWriter(config, body)
    latest = archive.entries[: settings.entries]
    full = settings.full_text in ("site", "all")
    news = _newest(archive.recent) if config.news_sitemap else False
    sitemaps = cache(partial(sitemap_views, listed, news=news))  # made together: the index dates its parts
    views: list[tuple[str, Callable[[], FeedView]]] = [
        ("feed.xml", partial(AtomFeed, "", config.title, latest, full)),
        ("feed.json", partial(JsonFeed, latest, full)),
        *((name, partial(_part, sitemaps, name)) for name in sitemap_names(_sitemap_count(listed))),
        ("robots.txt", Robots),
        ("corrections/feed.xml", lambda: CorrectionsFeed(corrections(archive)[: settings.entries])),
    ]
    if config.news_sitemap:
        recent = tuple((e.path, e.briefing.title, e.briefing.date, e.briefing.language or "") for e in archive.recent)
        views.append((NEWS_SITEMAP, partial(NewsSitemap, recent)))
    term_full = settings.full_text == "all"
    for kind in KINDS:
        for term in archive.terms[kind.name] if kind.feed else ():
            title = f"{config.title}: {kind.label_one} {term.name}"
            shown = term.entries[: settings.term_entries]
            page = f"{term.kind}/{term.slug}/"
            views.append((term_feed_path(term), partial(AtomFeed, page, title, shown, term_full)))
    for way in archive.given_way:  # its feed goes on (same id), carrying the term it is listed as
        if BY_NAME[way.kind].feed and BY_NAME[way.term.kind].feed:
            title = f"{config.title}: {BY_NAME[way.term.kind].label_one} {way.term.name}"
            shown = way.term.entries[: settings.term_entries]
            page = f"{way.kind}/{way.slug}/"  # a feed cannot redirect, and readers know it by its id
            views.append((f"{page}feed.xml", partial(AtomFeed, page, title, shown, term_full)))
    jobs: list[FeedJob] = []
    for path, make_view in views:
        view = cache(make_view)
        jobs.append((path, view, partial(_make_from, config, atom, body, view)))
    return jobs


def _part(sitemaps: Callable[[], list[tuple[str, Sitemap]]], name: str) -> Sitemap:
    """Return the view of one sitemap file, of those made together."""
    return dict(sitemaps())[name]


def _make_from(
    config: SiteConfig, atom: AtomWriter, body: Callable[[BodyRef], str], view: Callable[[], FeedView]
) -> bytes:
    """Return the bytes of one machine-readable file, its view made first if it was not."""
    return _make(config, atom, body, view())


def _make(config: SiteConfig, atom: AtomWriter, body: Callable[[BodyRef], str], view: FeedView) -> bytes:
    """Return the bytes of one machine-readable file from its view."""
    if isinstance(view, AtomFeed):
        return atom.feed(view.page_path, view.title, view.entries, view.full)
    if isinstance(view, JsonFeed):
        return json_feed(config, view.entries, view.full, body)
    if isinstance(view, Sitemap):
        return sitemap_index(config, view.locations) if view.index else sitemap(config, view.locations)
    if isinstance(view, CorrectionsFeed):
        return corrections_feed(config, view.items)
    if isinstance(view, NewsSitemap):
        return news_sitemap(config, view.items)
    return robots(config)


class AtomWriter:
    """Writes Atom feeds; an entry is serialised once, however many feeds carry it.

    A briefing is in the site feed and in the feed of each of its tags and of its region,
    so most entries would otherwise be serialised about seven times.
    """

    def __init__(self, config: SiteConfig, body: Callable[[BodyRef], str]) -> None:
        self.config = config
        self.body = body
        self._entries: dict[tuple[str, bool], bytes] = {}  # by entry path and full text or not, for one build

    def feed(self, page_path: str, title: str, entries: Sequence[Entry], full: bool) -> bytes:
        """Return an Atom 1.0 feed of entries for the page at page_path; `full`: with each body."""
        config = self.config
        ET.register_namespace("", ATOM_NS)
        feed = ET.Element(f"{{{ATOM_NS}}}feed", {"xml:lang": config.language})
        _text(feed, "id", f"tag:{config.id_authority}:feed/{page_path}")
        _text(feed, "title", title)
        _text(feed, "subtitle", config.description)
        _link(feed, config.absolute(page_path + "feed.xml"), "self", "application/atom+xml")
        _hub(feed, config)
        _link(feed, config.absolute(page_path), "alternate", "text/html")
        _text(feed, "updated", _stamp(max((e.briefing.modified for e in entries), default=EPOCH)))
        _text(ET.SubElement(feed, f"{{{ATOM_NS}}}author"), "name", config.title)
        _text(feed, "generator", "briefings")
        for number in range(len(entries)):  # NUL never occurs in a feed otherwise: it is refused on input
            _text(feed, "entry", f"\x00{number}\x00")
        fragments = [self.entry(entry, full) for entry in entries]
        return _PLACEHOLDER_RE.sub(lambda match: fragments[int(match[1])], _xml(feed))

    def entry(self, entry: Entry, full: bool) -> bytes:
        """Return one serialised `<entry>`, indented as a child of `<feed>`."""
        if (entry.path, full) not in self._entries:
            html = self.body(entry.body) if full else None
            self._entries[entry.path, full] = _atom_entry(self.config, entry, html).encode("utf-8")
        return self._entries[entry.path, full]


def _atom_entry(config: SiteConfig, entry: Entry, html: str | None) -> str:
    """Return one Atom entry (ids, dates, summary, the body as escaped HTML if given, terms),
    written as ElementTree writes it indented as a child of `<feed>` (the feeds' other parts):
    by hand, because ElementTree took 3% of a one-edit build at 10,000 briefings to write the
    entries of the feeds an edit reaches. `tests/test_feeds.py` holds the two to the same bytes."""
    b = entry.briefing
    author = [_element("name", entry.source.name)]
    if b.source.url:
        author.append(_element("uri", b.source.url))
    children = [
        _element("id", entry_id(config, entry)),
        _element("title", b.title),
        _element("link", "", rel="alternate", type="text/html", href=config.absolute(entry.path)),
        _element("published", _stamp(b.date)),
        _element("updated", _stamp(b.modified)),
        _parent("author", author, _INDENT * 3),
        _element("summary", b.summary),
    ]
    if html is not None:
        children.append(_element("content", html, type="html", **{"xml:base": config.absolute(entry.path)}))
    for kind, ref in _categories(entry):  # the scheme tells a tag from a country of the same slug
        children.append(_element("category", "", term=ref.slug, scheme=config.absolute(f"{kind}/"), label=ref.name))
    other = b.language if b.language and b.language.casefold() != config.language.casefold() else None
    return _parent("entry", children, _INDENT * 2, {"xml:lang": other} if other else {})


_INDENT = "  "  # a level of ElementTree's `indent`


def _head(name: str, attributes: dict[str, str]) -> str:
    """Return what a start tag holds: the element's name and its attributes, escaped."""
    return name + "".join(f' {key}="{_escape_attribute(value)}"' for key, value in attributes.items())


def _element(name: str, text: str, **attributes: str) -> str:
    """Return an element without children, as ElementTree writes it (empty: `<name />`)."""
    head = _head(name, attributes)
    return f"<{head}>{_escape(text)}</{name}>" if text else f"<{head} />"


def _parent(name: str, children: list[str], indent: str, attributes: dict[str, str] | None = None) -> str:
    """Return an element of `children` (each written already), a line each at `indent`, its
    end tag a level less: as ElementTree's `indent` lays out one."""
    head = _head(name, attributes or {})
    inside = "".join(f"\n{indent}{child}" for child in children)
    return f"<{head}>{inside}\n{indent[: -len(_INDENT)]}</{name}>"


def correction_id(config: SiteConfig, item: CorrectionItem) -> str:
    """Return a correction's permanent id: its briefing's id and the moment of the correction as
    written (`:correction:2016-12-23T09:00:00+02:00`), with `-2`, `-3` for more at the same moment."""
    stamp = _stamp(item.correction.date)
    same = [c for c in item.entry.briefing.corrections if _stamp(c.date) == stamp]  # newest first
    place = len(same) - same.index(item.correction)
    return f"{entry_id(config, item.entry)}:correction:{stamp}" + (f"-{place}" if place > 1 else "")


def corrections_feed(config: SiteConfig, items: Sequence[CorrectionItem]) -> bytes:
    """Return the Atom feed of corrections: an entry per correction, linking the corrected briefing."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"xml:lang": config.language})
    _text(feed, "id", f"tag:{config.id_authority}:feed/corrections/")
    _text(feed, "title", f"{config.title}: Corrections")
    _text(feed, "subtitle", f"Every correction made to {config.title}'s briefings, newest first.")
    _link(feed, config.absolute("corrections/feed.xml"), "self", "application/atom+xml")
    _hub(feed, config)
    _link(feed, config.absolute("corrections/"), "alternate", "text/html")
    _text(feed, "updated", _stamp(max((i.correction.date for i in items), default=EPOCH)))
    _text(ET.SubElement(feed, f"{{{ATOM_NS}}}author"), "name", config.title)
    _text(feed, "generator", "briefings")
    for item in items:
        b = item.entry.briefing
        element = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
        if b.language and b.language.casefold() != config.language.casefold():
            element.set("xml:lang", b.language)
        _text(element, "id", correction_id(config, item))
        _text(element, "title", f"Correction: {b.title}")
        _link(element, config.absolute(item.entry.path) + "#corrections", "alternate", "text/html")
        _text(element, "published", _stamp(item.correction.date))
        _text(element, "updated", _stamp(item.correction.date))
        _text(element, "summary", item.correction.text)
    return _xml(feed)


def _categories(entry: Entry) -> list[tuple[str, Ref]]:
    """Return what a feed entry is filed under, with the kind of each: its terms of every kind
    whose terms have feeds (tags, region, countries; not its source, which is the author)."""
    return [(kind.name, ref) for kind in KINDS if kind.feed for ref in entry.terms(kind)]


def json_feed(config: SiteConfig, entries: Iterable[Entry], full: bool, body: Callable[[BodyRef], str]) -> bytes:
    """Return a JSON Feed 1.1 with the same entries as /feed.xml; without `full`, summaries as text."""
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": config.title,
        "description": config.description,
        "home_page_url": config.absolute(),
        "feed_url": config.absolute("feed.json"),
        "language": config.language,
        "authors": [{"name": config.title, "url": config.absolute()}],
        "items": [_json_item(config, entry, body(entry.body) if full else None) for entry in entries],
    }
    if config.websub_hub:
        feed["hubs"] = [{"type": "WebSub", "url": config.websub_hub}]
    return (json.dumps(feed, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def _json_item(config: SiteConfig, entry: Entry, html: str | None) -> dict[str, object]:
    b = entry.briefing
    author = {"name": entry.source.name, **({"url": b.source.url} if b.source.url else {})}
    item: dict[str, object] = {
        "id": entry_id(config, entry),
        "url": config.absolute(entry.path),
        "title": b.title,
        "summary": b.summary,
        **({"content_html": html} if html is not None else {"content_text": b.summary}),
        "date_published": _stamp(b.date),
        "date_modified": _stamp(b.modified),
        "authors": [author],
        "tags": [ref.name for _, ref in _categories(entry)],
    }
    if b.source.url:
        item["external_url"] = b.source.url
    if b.image:
        item["image"] = src_url(config.base_url, b.image.src)
    return item


def sitemap_views(
    pages: Sequence[Listed], limit: int | None = None, news: datetime | None | bool = False
) -> list[tuple[str, Sitemap]]:
    """Return /sitemap.xml of the site's pages but 404.html; past `limit` URLs, an index of /sitemap-1.xml,
    /sitemap-2.xml, ... at the root (`sitemap_names`), which also lists the news sitemap unless
    `news` is False (else it is its newest date, or None)."""
    parts = [(name, Sitemap(chunk)) for name, chunk in sitemap_parts(pages, limit)]
    if len(parts) == 1:
        return parts
    stamps = tuple((name, max((m for _, m in part.locations if m), default=None)) for name, part in parts)
    if news is not False:
        stamps += ((NEWS_SITEMAP, news if isinstance(news, datetime) else None),)
    return [*parts, ("sitemap.xml", Sitemap(stamps, index=True))]


def sitemap_parts(pages: Sequence[Listed], limit: int | None = None) -> list[tuple[str, tuple[Listed, ...]]]:
    """Return each sitemap file that lists pages (`sitemap_views`: not the index) with the pages it lists."""
    listed, limit = tuple(page for page in pages if page[0] != NOT_LISTED), limit or SITEMAP_LIMIT
    names = sitemap_names(len(listed), limit)
    if len(names) == 1:
        return [(names[0], listed)]
    return [(name, listed[(number - 1) * limit : number * limit]) for number, name in enumerate(names[:-1], start=1)]


def written_alike(rows: tuple[Listed, ...], others: tuple[Listed, ...]) -> bool:
    """Return True when two sitemap files (or the same rows of two) list the same pages with the
    same dates, each written alike (the same moment at the same UTC offset: `_stamp`). Column by
    column, in C: the paths, then each date's offset and moment."""
    if len(rows) != len(others) or list(map(_PATH, rows)) != list(map(_PATH, others)):
        return False
    dates, was = list(map(_DATE, rows)), list(map(_DATE, others))
    if None in dates or None in was:  # a page with no date (an empty archive's home page): row by row
        return all(map(_dated_alike, dates, was))
    offsets = list(map(datetime.utcoffset, dates)) == list(map(datetime.utcoffset, was))
    return offsets and list(map(datetime.timestamp, dates)) == list(map(datetime.timestamp, was))


_PATH, _DATE = itemgetter(0), itemgetter(1)  # of a `Listed`


def _dated_alike(a: datetime | None, b: datetime | None) -> bool:
    return a == b and (a is None or b is None or a.utcoffset() == b.utcoffset())


NOT_LISTED = "404.html"  # the one page the sitemap does not list
SITEMAP_FILE = re.compile(r"sitemap(-[0-9]+)?\.xml")  # what `sitemap_names` names (not the news sitemap)


def sitemap_names(count: int, limit: int | None = None) -> list[str]:
    """Return the sitemap files of `count` pages: sitemap.xml, or past `limit` (`SITEMAP_LIMIT`) its
    parts, then it (their index)."""
    limit = limit or SITEMAP_LIMIT
    if count <= limit:
        return ["sitemap.xml"]
    return [*(f"sitemap-{number}.xml" for number in range(1, -(-count // limit) + 1)), "sitemap.xml"]


def _sitemap_count(pages: Sequence[Listed]) -> int:
    """Return how many pages the sitemap lists, without a pass in Python (100,000 pages)."""
    return len(pages) - list(map(itemgetter(0), pages)).count(NOT_LISTED)


def _newest(entries: Sequence[Entry]) -> datetime | None:
    return max((e.briefing.date for e in entries), default=None, key=lambda d: d.timestamp())


def news_language(tag: str) -> str:
    """Return the ISO 639 code Google News wants for a BCP 47 tag: its language (`en-GB` is `en`),
    except Chinese, which is `zh-cn` (simplified) or `zh-tw` (traditional)."""
    subtags = tag.casefold().split("-")
    if subtags[0] != "zh":
        return subtags[0]
    return "zh-tw" if {"hant", "tw", "hk", "mo"} & set(subtags[1:]) else "zh-cn"


def news_sitemap(config: SiteConfig, items: Iterable[tuple[str, str, datetime, str]]) -> bytes:
    """Return a Google News sitemap of briefings (site path, title, date, language): each with the
    publication's name and language, its publication date (W3C, with its offset) and title."""
    ET.register_namespace("", SITEMAP_NS)
    ET.register_namespace("news", NEWS_NS)
    urlset = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    for path, title, date, language in items:
        url = ET.SubElement(urlset, f"{{{SITEMAP_NS}}}url")
        ET.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = config.absolute(path)
        news = ET.SubElement(url, f"{{{NEWS_NS}}}news")
        publication = ET.SubElement(news, f"{{{NEWS_NS}}}publication")
        ET.SubElement(publication, f"{{{NEWS_NS}}}name").text = config.title
        ET.SubElement(publication, f"{{{NEWS_NS}}}language").text = news_language(language or config.language)
        ET.SubElement(news, f"{{{NEWS_NS}}}publication_date").text = _stamp(date)
        ET.SubElement(news, f"{{{NEWS_NS}}}title").text = title
    return _xml(urlset)


def sitemap(config: SiteConfig, locations: Iterable[tuple[str, datetime | None]]) -> bytes:
    """Return a sitemap of site paths with their lastmod (from their briefings).

    Written as text, not built as an ElementTree: the one file that grows with the archive
    (150,000 URLs at 100,000 briefings), made in every build that moves a briefing, and text
    takes a fifth of the time. The bytes are those `_xml` would write for the tree, an element
    a line (tests/test_feeds.py compares the two)."""
    lines = [f'{_DECLARATION}<urlset xmlns="{SITEMAP_NS}">']
    for path, modified in locations:
        loc = _escape(config.absolute(path))
        if modified:
            lines.append(f"<url>\n<loc>{loc}</loc>\n<lastmod>{_stamp(modified)}</lastmod>\n</url>")
        else:
            lines.append(f"<url>\n<loc>{loc}</loc>\n</url>")
    if len(lines) == 1:  # no URL: the element closes itself, as ElementTree writes it
        return f"{lines[0][:-1]} />\n".encode()
    lines.append("</urlset>\n")
    return "\n".join(lines).encode("utf-8", "xmlcharrefreplace")


def sitemap_index(config: SiteConfig, parts: Iterable[tuple[str, datetime | None]]) -> bytes:
    """Return a sitemap index naming each part (site path, newest lastmod in it)."""
    ET.register_namespace("", SITEMAP_NS)
    index = ET.Element(f"{{{SITEMAP_NS}}}sitemapindex")
    for path, modified in parts:
        part = ET.SubElement(index, f"{{{SITEMAP_NS}}}sitemap")
        ET.SubElement(part, f"{{{SITEMAP_NS}}}loc").text = config.absolute(path)
        if modified:
            ET.SubElement(part, f"{{{SITEMAP_NS}}}lastmod").text = _stamp(modified)
    return _xml(index, indent=False)


def robots(config: SiteConfig) -> bytes:
    """Return robots.txt allowing everything and naming the sitemaps."""
    news = f"Sitemap: {config.absolute(NEWS_SITEMAP)}\n" if config.news_sitemap else ""
    return f"User-agent: *\nAllow: /\n\nSitemap: {config.absolute('sitemap.xml')}\n{news}".encode()


def _xml(root: ET.Element, indent: bool = True) -> bytes:
    """Serialise an XML document with its declaration, an element per line, indented unless
    it is only for machines (a sitemap's indentation is a tenth of its size)."""
    ET.indent(root, space="  " if indent else "")
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data + b"\n"


_DECLARATION = "<?xml version='1.0' encoding='utf-8'?>\n"  # as ElementTree writes it


def _escape(text: str) -> str:
    """Return text as XML character data, escaped as ElementTree escapes it."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attribute(text: str) -> str:
    """Return text as an attribute's value in double quotes, escaped as ElementTree escapes it."""
    text = _escape(text).replace('"', "&quot;")
    return text.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;")


def _text(parent: ET.Element, name: str, text: str) -> ET.Element:
    child = ET.SubElement(parent, f"{{{ATOM_NS}}}{name}")
    child.text = text
    return child


def _link(parent: ET.Element, href: str, rel: str, kind: str) -> None:
    ET.SubElement(parent, f"{{{ATOM_NS}}}link", {"rel": rel, "type": kind, "href": href})


def _hub(feed: ET.Element, config: SiteConfig) -> None:
    """Name the WebSub hub that announces the feed's changes (with its `self` link, the topic), if there is one."""
    if config.websub_hub:
        ET.SubElement(feed, f"{{{ATOM_NS}}}link", {"rel": "hub", "href": config.websub_hub})


def _stamp(moment: datetime) -> str:
    """Return an RFC 3339 timestamp in the offset it was written in."""
    return moment.isoformat(timespec="seconds")
