"""The archive's settings: `site.yaml` -> `SiteConfig`.

Owns reading and checking `site.yaml` (unknown keys are errors, like in front matter).
May not read content or write output.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from briefings.errors import BuildFailed, SourceError
from briefings.frozen import worked_out
from briefings.schema import FieldReader, optional
from briefings.urls import SLUG_RULE, fold, site_path_problem, slug_problem, slugify
from briefings.yamlnodes import Mapping, Node, Seq, YamlProblem, describe, parse_yaml

_KEYS = (
    "title", "description", "base_url", "language", "timezone", "per_page",
    "id_authority", "regions", "tag_aliases", "known_tags", "known_countries", "removed", "search", "markdown",
    "max_body_kb", "feeds", "stories", "corrections_policy", "publishing_principles", "news_sitemap", "websub_hub",
    "descriptions",
)  # fmt: skip
_REQUIRED = ("title", "description", "base_url", "language", "timezone", "id_authority", "regions")
# A sanity bound, not a style rule: real release notes reach 850 KB. Parsing is linear (the
# quadratic join of unmatched emphasis is replaced: see markdown.join_fragments), so a 2 MB
# body of `*a **a ` still parses in a few seconds.
MAX_BODY_KB = 2048
# Listings are titles and dates: 200 (Wikipedia's category pages list as many) are about
# 33 kB, and each listing page repeats the page's chrome (about 2 kB) once for them all.
PER_PAGE = 200
FULL_TEXT = ("site", "all", "none")  # which feeds carry each briefing's full text


@dataclass(frozen=True)
class FeedSettings:
    """What the feeds carry: how many briefings, and which feeds have full text (others: summaries)."""

    entries: int = 50  # /feed.xml and /feed.json
    term_entries: int = 10  # each tag's, region's and country's feed, like WordPress's default length
    full_text: str = "site"  # one of FULL_TEXT


_LANGUAGE_RE = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
_AUTHORITY_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(@[a-z0-9.-]+)?,\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass(frozen=True)
class Region:
    """One entry of the controlled list of regions."""

    name: str
    slug: str
    description: str = ""


@dataclass(frozen=True)
class Story:
    """A developing story as site.yaml describes it: its name, its URL slug (fixed, so that the
    story may be renamed), a description, and earlier paths of its page that redirect to it."""

    name: str
    slug: str
    description: str = ""
    aliases: tuple[str, ...] = ()  # "/stories/old-slug/"
    line: int = 0  # in site.yaml


@dataclass(frozen=True)
class Removed:
    """A URL deliberately given up (a briefing withdrawn): it keeps a page saying why."""

    path: str  # as written: /2015/09/old-slug/
    reason: str
    line: int = 0  # in site.yaml


@dataclass(frozen=True)
class ParseSettings:
    """The settings reading one briefing depends on: its parser receives these and nothing else,
    so they are exactly what a cached record is stamped with (a change parses every file again)."""

    timezone: str
    regions: tuple[str, ...]  # the names a region may have
    tag_aliases: tuple[tuple[str, str], ...]  # (folded alias, canonical tag)
    allow_html: bool
    max_body_kb: int
    search: bool  # the words search finds a briefing by are computed only when search is on
    inline_footnotes: bool = False  # Pandoc's `^[note]`, which GitHub lacks
    stemmed: bool = False  # search finds words by their stem (`words.stem`): a site in English

    @property
    def tz(self) -> ZoneInfo:
        """Return the timezone that dates without an offset are read in."""
        return ZoneInfo(self.timezone)

    def canonical_tag(self, tag: str) -> str:
        """Return the canonical spelling for an alias, or the tag itself."""
        return self._aliases.get(fold(tag), tag)

    @worked_out
    def _aliases(self) -> dict[str, str]:
        """The canonical tag of each folded alias: made once, not for every tag of every briefing."""
        return dict(self.tag_aliases)


@dataclass(frozen=True)
class SiteConfig:
    """Everything `site.yaml` says, checked."""

    title: str
    description: str
    base_url: str  # absolute, ends with "/"
    language: str
    timezone: str
    per_page: int
    id_authority: str  # RFC 4151 tagging entity, e.g. "briefings.example.org,2015": never changes
    regions: tuple[Region, ...]
    tag_aliases: tuple[tuple[str, str], ...]  # (folded alias, canonical tag)
    allow_html: bool = False
    inline_footnotes: bool = False
    max_body_kb: int = MAX_BODY_KB
    feeds: FeedSettings = FeedSettings()
    known_countries: tuple[str, ...] = ()  # names the built-in list lacks, so not taken for misspellings
    known_tags: tuple[str, ...] = ()  # tags close to others on purpose ("Russia" and "Russian")
    removed: tuple[Removed, ...] = ()
    search: bool = True  # the /search/ page and its index
    stories: tuple[Story, ...] = ()  # stories described in site.yaml (a story needs no entry to exist)
    corrections_policy: str = ""  # URL or site path of the site's corrections policy, if it has one
    publishing_principles: str = ""  # URL or site path of its publishing principles, if it has them
    news_sitemap: bool = True  # /news-sitemap.xml, Google News' list of the last two days' briefings
    websub_hub: str = ""  # a WebSub hub the feeds name, and `build.py ping` notifies of changed feeds
    descriptions: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()  # (kind, ((name, text), ...))

    def term_slugs(self, kind: str) -> dict[str, str]:
        """Return the slugs site.yaml fixes for a kind's names (regions, stories), by name."""
        if kind == "regions":
            return {r.name: r.slug for r in self.regions}
        return {s.name: s.slug for s in self.stories} if kind == "stories" else {}

    def term_descriptions(self, kind: str) -> dict[str, str]:
        """Return the descriptions site.yaml gives a kind's names (regions, stories), by name."""
        if kind == "regions":
            return {r.name: r.description for r in self.regions}
        if kind == "stories":
            return {s.name: s.description for s in self.stories}
        return dict(dict(self.descriptions).get(kind, ()))

    def policy_url(self, value: str) -> str:
        """Return the absolute URL of a policy setting (a URL, or a path of this site)."""
        return value if value.startswith(("https://", "http://")) else self.absolute(value.lstrip("/"))

    @property
    def parsing(self) -> ParseSettings:
        """Return what reading a briefing depends on."""
        names = tuple(r.name for r in self.regions)
        return ParseSettings(
            self.timezone, names, self.tag_aliases, self.allow_html, self.max_body_kb, self.search,
            self.inline_footnotes, self.stemmed,
        )  # fmt: skip

    @property
    def stemmed(self) -> bool:
        """Return True when search compares words by their English stem: the site is in English."""
        return self.language.split("-")[0].casefold() == "en"

    def known_names(self, key: str) -> tuple[str, ...]:
        """Return the names a `known_*` setting lists (with tags, also the canonical tags of `tag_aliases`)."""
        if key == "known_tags":
            return (*self.known_tags, *(tag for _, tag in self.tag_aliases))
        if key == "stories":
            return tuple(story.name for story in self.stories)
        return self.known_countries if key == "known_countries" else ()

    def absolute(self, path: str = "") -> str:
        """Return the absolute URL of a site path."""
        return self.base_url + path

    @property
    def base_path(self) -> str:
        """Return the base URL's path: `/` for a user site, `/<repo>/` for a project site."""
        return urlsplit(self.base_url).path

    def with_base_url(self, url: str) -> SiteConfig:
        """Return a copy served from another base URL (`--base-url`)."""
        return replace(self, base_url=normalise_base_url(url))


def normalise_base_url(url: str) -> str:
    """Return an http(s) base URL ending with "/", or raise ValueError.

    It is written raw into robots.txt, feeds and the sitemap, so a character that would
    need escaping there (quotes, angle brackets, spaces, controls, bidirectional marks) is refused.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f'"{url}" is not an http(s) URL such as https://example.org/archive/')
    odd = next((c for c in url.strip() if c in _URL_UNSAFE or unicodedata.category(c) in ("Cc", "Cf", "Zs")), None)
    if odd is not None:
        raise ValueError(f"{url.strip()!r} holds {odd!r} (U+{ord(odd):04X}), which a URL may not; percent-encode it")
    return url.strip().rstrip("/") + "/"


_URL_UNSAFE = frozenset('"<>\\^`{|}')


def load_config(path: Path, name: str = "site.yaml") -> SiteConfig:
    """Read and check `site.yaml`; raise BuildFailed with every problem."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BuildFailed([SourceError(name, 0, "not found; the archive needs a site.yaml")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildFailed([SourceError(name, 0, f"cannot be read: {exc}")]) from None
    return parse_config(text, name)


def parse_config(text: str, name: str = "site.yaml") -> SiteConfig:
    """Check the text of `site.yaml`; raise BuildFailed with every problem."""
    reader = FieldReader(name)
    try:
        root = parse_yaml(text)
    except YamlProblem as problem:
        raise BuildFailed([SourceError(name, problem.line, problem.message)]) from None
    if root is None:
        raise BuildFailed([SourceError(name, 1, "is empty; see README.md for the settings it needs")])
    found = reader.fields(root, "site.yaml", _KEYS, _REQUIRED)

    def setting(key: str) -> str | None:
        return optional(found, key, lambda node: _read_simple(reader, key, node))

    title, description, base_url = setting("title"), setting("description"), setting("base_url")
    language, timezone, id_authority = setting("language"), setting("timezone"), setting("id_authority")
    per_page = optional(found, "per_page", lambda node: reader.integer(node, "per_page", 1, 500))
    max_body_kb = optional(found, "max_body_kb", lambda node: reader.integer(node, "max_body_kb", 1, 10_000))
    regions = optional(found, "regions", lambda node: _read_regions(reader, node))
    aliases = optional(found, "tag_aliases", lambda node: _read_aliases(reader, node))
    known = optional(found, "known_countries", lambda node: reader.text_list(node, "known_countries", 1000))
    known_tags = optional(found, "known_tags", lambda node: reader.text_list(node, "known_tags", 1000))
    removed = optional(found, "removed", lambda node: _read_removed(reader, node))
    search = optional(found, "search", lambda node: reader.boolean(node, "search"))
    markdown = optional(found, "markdown", lambda node: _read_markdown(reader, node))
    allow_html, inline_footnotes = markdown or (False, False)
    feeds = optional(found, "feeds", lambda node: _read_feeds(reader, node))
    stories = optional(found, "stories", lambda node: _read_stories(reader, node))
    policy = optional(found, "corrections_policy", lambda node: _read_link(reader, "corrections_policy", node))
    principles = optional(found, "publishing_principles", lambda n: _read_link(reader, "publishing_principles", n))
    news_sitemap = optional(found, "news_sitemap", lambda node: reader.boolean(node, "news_sitemap"))
    hub = optional(found, "websub_hub", lambda node: reader.url(node, "websub_hub"))
    descriptions = optional(found, "descriptions", lambda node: _read_descriptions(reader, node))
    if (
        reader.errors or title is None or description is None or base_url is None or language is None
        or timezone is None or id_authority is None or regions is None
    ):  # fmt: skip
        raise BuildFailed(reader.errors)
    return SiteConfig(
        title=title,
        description=description,
        base_url=base_url,
        language=language,
        timezone=timezone,
        per_page=per_page or PER_PAGE,
        id_authority=id_authority,
        regions=regions,
        tag_aliases=aliases or (),
        allow_html=allow_html,
        inline_footnotes=inline_footnotes,
        max_body_kb=max_body_kb or MAX_BODY_KB,
        feeds=feeds or FeedSettings(),
        known_countries=tuple(known or ()),
        known_tags=tuple(known_tags or ()),
        removed=removed or (),
        search=search is not False,
        stories=stories or (),
        corrections_policy=policy or "",
        publishing_principles=principles or "",
        news_sitemap=news_sitemap is not False,
        websub_hub=hub or "",
        descriptions=descriptions or (),
    )


def _read_simple(reader: FieldReader, key: str, node: Node) -> str | None:
    """Read one text setting and check its form; problems go to the reader."""
    value = reader.text(node, key, max_len=400)
    if value is None:
        return None
    problem = _check_simple(key, value)
    if problem:
        reader.error(node.line, f"{key}: {problem}")
        return None
    return normalise_base_url(value) if key == "base_url" else value


def _read_markdown(reader: FieldReader, node: Node) -> tuple[bool, bool]:
    """Read the `markdown:` section: (allow_html, inline_footnotes)."""
    settings = reader.fields(node, "markdown", ("allow_html", "inline_footnotes"))
    allow_html = optional(settings, "allow_html", lambda n: reader.boolean(n, "allow_html"))
    inline = optional(settings, "inline_footnotes", lambda n: reader.boolean(n, "inline_footnotes"))
    return bool(allow_html), bool(inline)


def _read_feeds(reader: FieldReader, node: Node) -> FeedSettings | None:
    """Read the `feeds:` section; what it leaves out keeps its default."""
    settings = reader.fields(node, "feeds", ("entries", "term_entries", "full_text"))
    default = FeedSettings()
    entries = optional(settings, "entries", lambda n: reader.integer(n, "entries", 1, 1000))
    term_entries = optional(settings, "term_entries", lambda n: reader.integer(n, "term_entries", 1, 1000))
    full_text = optional(settings, "full_text", lambda n: reader.choice(n, "full_text", FULL_TEXT))
    return FeedSettings(
        entries=default.entries if entries is None else entries,
        term_entries=default.term_entries if term_entries is None else term_entries,
        full_text=full_text or default.full_text,
    )


def _check_simple(key: str, value: str) -> str | None:
    """Return what is wrong with base_url, language or timezone, if anything."""
    if key == "base_url":
        try:
            normalise_base_url(value)
        except ValueError as exc:
            return str(exc)
    elif key == "language" and not _LANGUAGE_RE.match(value):
        return f'"{value}" is not a language tag; write one such as en or en-GB'
    elif key == "id_authority" and not _AUTHORITY_RE.match(value):
        return f'"{value}" is not a tag URI authority; write a domain you own and a year, e.g. example.org,2015'
    elif key == "timezone":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            return f'"{value}" is not an IANA timezone; write one such as UTC or Europe/Istanbul'
    return None


def _read_regions(reader: FieldReader, node: Node) -> tuple[Region, ...] | None:
    """Read the controlled list of regions; names and slugs must be unique."""
    if not isinstance(node, Seq) or not node.items:
        reader.error(node.line, f"regions: expected a list of `- name: ...` entries, found {describe(node)}")
        return None
    regions: list[Region] = []
    for item in node.items:
        found = reader.fields(item, "a region", ("name", "slug", "description"), ("name",))
        name = reader.text(found["name"], "name", max_len=80) if "name" in found else None
        if name is None:
            continue
        slug = reader.text(found["slug"], "slug") if "slug" in found else slugify(name)
        problem = slug_problem(slug) if slug is not None else None
        if problem:
            reader.error(found["slug"].line, f'slug: "{slug}" is not a valid slug: {problem} ({SLUG_RULE})')
            continue
        description = reader.text(found["description"], "description") if "description" in found else ""
        if any(fold(r.name) == fold(name) or r.slug == slug for r in regions):
            reader.error(item.line, f'region "{name}" is listed twice (same name or slug); keep one')
        elif slug is not None:
            regions.append(Region(name, slug, description or ""))
    return tuple(regions)


def _read_stories(reader: FieldReader, node: Node) -> tuple[Story, ...] | None:
    """Read `stories:`, a list of `- name: ...` with an optional slug, description and aliases."""
    if not isinstance(node, Seq):
        reader.error(node.line, f"stories: expected a list of `- name: ...` entries, found {describe(node)}")
        return None
    stories: list[Story] = []
    for item in node.items:
        found = reader.fields(item, "a story", ("name", "slug", "description", "aliases"), ("name",))
        name = reader.text(found["name"], "name", max_len=120) if "name" in found else None
        slug = reader.text(found["slug"], "slug") if "slug" in found else (slugify(name) if name else None)
        if "slug" in found and slug is not None and (problem := slug_problem(slug)):
            reader.error(found["slug"].line, f'slug: "{slug}" is not a valid slug: {problem} ({SLUG_RULE})')
            continue
        description = reader.text(found["description"], "description", 400) if "description" in found else ""
        aliases = reader.text_list(found["aliases"], "aliases", 20) if "aliases" in found else ()
        for alias in aliases or ():
            if problem := site_path_problem(alias):
                reader.error(found["aliases"].line, f'aliases: "{alias}" is not a path of this site; {problem}')
        if name is None or slug is None or aliases is None:
            continue
        if any(fold(s.name) == fold(name) or s.slug == slug for s in stories):
            reader.error(item.line, f'story "{name}" is listed twice (same name or slug); keep one')
            continue
        stories.append(Story(name, slug, description or "", tuple(dict.fromkeys(aliases)), item.line))
    return tuple(stories)


DESCRIBED = ("tags", "countries", "sources")  # regions and stories are described in their own lists


def _read_descriptions(reader: FieldReader, node: Node) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...] | None:
    """Read `descriptions:`, a line of text for a term's page by kind and name (`tags: {Syria: ...}`)."""
    found = reader.fields(node, "descriptions", DESCRIBED)
    described = []
    for kind in DESCRIBED:
        if kind not in found:
            continue
        names = found[kind]
        if not isinstance(names, Mapping):
            reader.error(
                names.line, f"descriptions {kind}: expected `Name: description` lines, found {describe(names)}"
            )
            continue
        texts = [(key.text, reader.text(value, f"description of {key.text}", 400)) for key, value in names.items]
        described.append((kind, tuple((name, text) for name, text in texts if text)))
    return tuple(described)


def _read_link(reader: FieldReader, key: str, node: Node) -> str | None:
    """Read a setting that links a page: an http(s) URL, or a path of this site such as /about/."""
    value = reader.text(node, key, max_len=400)
    if value is None or value.startswith(("https://", "http://")):
        return reader.url(node, key) if value else None
    if problem := site_path_problem(value):
        reader.error(node.line, f'{key}: "{value}" is neither an http(s) URL nor a path of this site; {problem}')
        return None
    return value


def _read_removed(reader: FieldReader, node: Node) -> tuple[Removed, ...] | None:
    """Read `removed:`, a list of `- url: /2015/09/slug/` with the `reason` its page will give."""
    if not isinstance(node, Seq):
        reader.error(node.line, f"removed: expected a list of `- url: ...` with `reason: ...`, found {describe(node)}")
        return None
    removed: list[Removed] = []
    for item in node.items:
        found = reader.fields(item, "a removed URL", ("url", "reason"), ("url", "reason"))
        path = reader.text(found["url"], "url") if "url" in found else None
        reason = reader.text(found["reason"], "reason", max_len=1000) if "reason" in found else None
        problem = site_path_problem(path) if path is not None else None
        if problem:
            reader.error(found["url"].line, f'removed: "{path}" is not a path of this site; {problem}')
        elif path is not None and any(r.path == path for r in removed):
            reader.error(found["url"].line, f'removed: "{path}" is listed twice; keep one')
        elif path is not None and reason is not None:
            removed.append(Removed(path, reason, found["url"].line))
    return tuple(removed)


def _read_aliases(reader: FieldReader, node: Node) -> tuple[tuple[str, str], ...] | None:
    """Read `canonical: [alias, ...]` pairs; an alias may point to one tag only."""
    if not isinstance(node, Mapping):
        reader.error(node.line, f"tag_aliases: expected `Tag: [alias, ...]` lines, found {describe(node)}")
        return None
    pairs: dict[str, str] = {}
    for key, value in node.items:
        aliases = reader.text_list(value, f"tag_aliases {key.text}") or ()
        for alias in aliases:
            if pairs.get(fold(alias), key.text) != key.text:
                reader.error(
                    value.line, f'tag_aliases: "{alias}" is an alias of both "{pairs[fold(alias)]}" and "{key.text}"'
                )
            pairs[fold(alias)] = key.text
    return tuple(sorted(pairs.items()))
