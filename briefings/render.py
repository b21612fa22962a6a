"""Jinja2 rendering of pages.

Owns the template environment (autoescaped, strict about undefined names), the filters
and globals templates may use, and turning template mistakes into `file:line` errors.
May not write files.
"""

from __future__ import annotations

import hashlib
import itertools
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta, nodes
from markupsafe import Markup

from briefings import urls
from briefings.clock import MONTHS, human_moment
from briefings.config import SiteConfig
from briefings.errors import BuildFailed, CacheDamaged, SourceError
from briefings.keys import Memo, digest_text
from briefings.markdown import BodyRef
from briefings.meta import news_article, site_publisher, story_series
from briefings.pages import Page, period_path

REFERENCES, REFERENCES_FORMAT = "template-references", 1  # the memo slot, and its layout's version


class Renderer:
    """Renders pages of one archive with the templates in one folder."""

    def __init__(
        self,
        templates: Path,
        site: SiteConfig,
        static: Mapping[str, bytes],
        body: Callable[[BodyRef], str],
        compiled: jinja2.BytecodeCache | None = None,
        memo: Memo | None = None,
    ) -> None:
        self.templates = templates
        self.env = _Environment(
            loader=jinja2.FileSystemLoader(templates),
            # Compiled templates are kept by source checksum, so a build does not compile them again.
            bytecode_cache=compiled,
            # A renderer serves one build (or one page of the preview): a template is read once,
            # not looked at again on the disk each time a page asks for it (three calls of the
            # OS for every briefing page).
            auto_reload=False,
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        base_path = site.base_path

        def url(path: str = "") -> str:
            return urls.href(base_path, path)

        def lang(briefing: Any) -> Markup:
            return lang_attribute(briefing.language, site.language)

        def chrome_lang(page: Any) -> Markup:  # on a page in another language, the site's own words keep the site's
            return lang_attribute(site.language, page.language or site.language)

        fingerprints = {name: hashlib.sha256(data).hexdigest()[:10] for name, data in static.items()}
        self.env.globals.update(
            site=site,
            news_article=lambda entry, image: news_article(site, entry, image),
            story_series=lambda term, entries: story_series(site, term, entries),
            site_publisher=lambda: site_publisher(site),
            body=lambda entry: body(entry.body),
            lang=lang,
            language_label=lambda briefing, before: language_label(briefing.language, site.language, before),
            chrome_lang=chrome_lang,
            url=url,
            src=lambda src: urls.src_url(base_path, src),
            asset=lambda name: self._asset(base_path, fingerprints, name),
            period_path=period_path,
            year_path=urls.year_path,
            month_path=urls.month_path,
            page_path=urls.page_path,
            term_path=urls.term_path,
        )
        self.env.filters.update(
            iso=iso_date,
            human=human_date,
            human_time=human_time,
            month_year=month_year,
            human_moment=human_moment,
            day_month=day_month,
            by_period=by_period,
            language_name=language_name,
            # Also filters, which templates call directly: Jinja calls a global through
            # `Context.call` (about 3 µs more each), and a listing page of 200 entries calls these
            # 400 times. `{{ entry.path | url }}` is `{{ url(entry.path) }}`, the same bytes.
            url=_site_dependent(url),
            lang=_site_dependent(lang),
            chrome_lang=_site_dependent(chrome_lang),
        )
        self._digests: dict[str, bytes] = {}
        self._memo = memo
        # What each template names, by a digest of its name and source: parsing is most of a
        # template digest's cost, so it is kept between builds (see `keep_references`).
        known = memo.recall(REFERENCES, REFERENCES_FORMAT) if memo else None
        self._known: dict[bytes, tuple[str, ...] | None] = known if isinstance(known, dict) else {}
        self._used: dict[bytes, tuple[str, ...] | None] = {}

    def template_digest(self, name: str) -> bytes:
        """Return a digest of a template and every template it extends, includes or imports."""
        if name not in self._digests:
            sources, pending = {}, [name]
            while pending:
                current = pending.pop()
                if current in sources:
                    continue
                sources[current], named = self._source_and_references(current)
                pending += named if named is not None else self.env.list_templates()
            self._digests[name] = digest_text(*(part for n in sorted(sources) for part in (n, sources[n])))
        return self._digests[name]

    def _source_and_references(self, name: str) -> tuple[str, tuple[str, ...] | None]:
        """Return a template's source and the templates it names, as Jinja's own parser finds them
        (`extends`, `include`, `import`, `from ... import`, any whitespace control); None when
        one is named by an expression (`{% include page.template %}`): it may use any template."""
        try:
            source = self.env.loader.get_source(self.env, name)[0]  # type: ignore[union-attr]
        except jinja2.TemplateError as exc:  # reported with file:line when the page renders
            return f"unreadable: {exc}", ()
        known = digest_text(name, source)
        if known in self._used:
            return source, self._used[known]
        if known in self._known:
            self._used[known] = self._known[known]
            return source, self._known[known]
        try:
            referenced = list(meta.find_referenced_templates(self.env.parse_kept(source, name)))
        except jinja2.TemplateError as exc:
            return f"unreadable: {exc}", ()
        named = None if None in referenced else tuple(r for r in referenced if r is not None)
        self._used[known] = named
        return source, named

    def keep_references(self) -> None:
        """Keep what each template used in this build names, for the next build (if anything was parsed)."""
        if self._memo is not None and self._used.keys() != self._known.keys():
            self._memo.remember(REFERENCES, REFERENCES_FORMAT, self._used)

    def page_maker(self, page: Page) -> Callable[[], bytes]:
        """Return a function that renders one page."""
        return lambda: self.render(page)

    @staticmethod
    def _asset(base_path: str, fingerprints: Mapping[str, str], name: str) -> str:
        """Return a static file's URL with a content hash, so browsers may cache it for ever."""
        if name not in fingerprints:
            raise LookupError(f"asset({name!r}): there is no static/{name}; add the file or fix the name")
        return f"{urls.href(base_path, name)}?v={fingerprints[name]}"

    def render(self, page: Page) -> bytes:
        """Render one page to UTF-8 bytes; template mistakes raise BuildFailed at file:line."""
        try:
            template = self.env.get_template(page.template)
            html = template.render(page=page, **page.context)
        except jinja2.TemplateSyntaxError as exc:
            where = self._relative(exc.filename) if exc.filename else f"templates/{page.template}"
            raise BuildFailed([SourceError(where, exc.lineno, f"template syntax: {exc.message}")]) from None
        except CacheDamaged:
            raise  # not the template's fault: the build clears the cache and runs again
        except Exception as exc:  # noqa: BLE001 - any template mistake becomes a file:line error
            raise BuildFailed([self._locate(exc, page)]) from None
        return html.encode("utf-8")

    def _locate(self, exc: Exception, page: Page) -> SourceError:
        """Name the template line a rendering error came from (Jinja maps frames to it)."""
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".html")]
        message = f"template error while rendering /{page.path}: {type(exc).__name__}: {exc}"
        if not frames:
            return SourceError(f"templates/{page.template}", 0, message)
        return SourceError(self._relative(frames[-1].filename), frames[-1].lineno or 0, message)

    def _relative(self, filename: str) -> str:
        path = Path(filename)
        try:
            return (Path("templates") / path.resolve().relative_to(self.templates.resolve())).as_posix()
        except ValueError:
            return filename


class _Environment(jinja2.Environment):
    """Jinja's environment, compiling a template from the tree its references were found in:
    parsing is about half of compiling, and a build without the references memo has just
    parsed every template it uses (worker processes inherit the trees)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._kept: dict[tuple[str, str], nodes.Template] = {}  # by name and source

    def parse_kept(self, source: str, name: str) -> nodes.Template:
        """Parse a template, keeping the tree to compile it from when it is first rendered."""
        tree = self._kept[name, source] = self.parse(source, name)
        return tree

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        # Taken, not copied: compiling may change the tree.
        tree = self._kept.pop((name, source), None) if name is not None else None
        return tree if tree is not None else super()._parse(source, name, filename)


def _site_dependent(function: Callable[..., Any]) -> Callable[..., Any]:
    """Return a filter that Jinja never works out while compiling: it folds a filter of a constant
    (`{{ 'feed.xml' | url }}`) into the compiled template, which the cache keeps across builds,
    so a new base URL would not reach it. A filter given the context is always called."""
    return jinja2.pass_context(lambda _context, *args: function(*args))


NOTHING = Markup("")  # what most filters of a briefing's language give (a `Markup` is immutable: one for all)


def lang_attribute(language: str | None, site_language: str) -> Markup:
    """Return ` lang="es"` for a briefing in another language than the site's, else nothing."""
    if not language or language.casefold() == site_language.casefold():
        return NOTHING
    return Markup(' lang="{}"').format(language)


def language_label(language: str | None, site_language: str, before: str) -> Markup:
    """Return `before` and a label naming a briefing's language ("Spanish") when it is not the site's, else nothing."""
    if not language or language.casefold() == site_language.casefold():
        return NOTHING
    return Markup('{}<span class="lang">{}</span>').format(before, language_name(language))


def iso_date(moment: datetime, with_time: bool = True) -> str:
    """Return a `<time datetime>` value: a date, or a date-time to the second with its offset
    (fractions of a second, `2012-07-19T17:09:26.413Z` as written, are not valid there)."""
    return moment.isoformat(timespec="seconds") if with_time else moment.date().isoformat()


def human_date(moment: datetime) -> str:
    """Return "24 September 2015" (fixed English names: output must not depend on locale)."""
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


@dataclass(frozen=True)
class Group:
    """A heading of a listing and the entries under it: a year (level 2), or a month of a dense year (level 3)."""

    label: str
    level: int
    entries: tuple[Any, ...]  # none under a year that is split into months
    start: int  # the place of its first entry in the listing


DENSE_YEAR = 30  # entries of one year on a listing page past which its months get headings


def by_period(entries: Sequence[Any]) -> list[Group]:
    """Group a listing's entries (newest first) under their years, and the months of a year with
    more than DENSE_YEAR of them on the page, so that a long list scans by date."""
    groups: list[Group] = []
    start = 0
    for year, in_year in itertools.groupby(entries, key=lambda e: e.briefing.date.year):
        shown = tuple(in_year)
        if len(shown) <= DENSE_YEAR:
            groups.append(Group(str(year), 2, shown, start))
            start += len(shown)
            continue
        groups.append(Group(str(year), 2, (), start))
        for month, in_month in itertools.groupby(shown, key=lambda e: e.briefing.date.month):
            listed = tuple(in_month)
            groups.append(Group(MONTHS[month - 1], 3, listed, start))
            start += len(listed)
    return groups


def day_month(moment: datetime) -> str:
    """Return "24 Sep": a listing's date column, under its year's heading."""
    return f"{moment.day} {MONTHS[moment.month - 1][:3]}"


# The names readers see for a briefing's language (a label beside its title); another is shown as its tag.
LANGUAGES = {
    "ar": "Arabic", "de": "German", "el": "Greek", "en": "English", "es": "Spanish", "fa": "Persian",
    "fr": "French", "he": "Hebrew", "hi": "Hindi", "id": "Indonesian", "it": "Italian", "ja": "Japanese",
    "ko": "Korean", "ku": "Kurdish", "nl": "Dutch", "pl": "Polish", "pt": "Portuguese", "ru": "Russian",
    "sv": "Swedish", "sw": "Swahili", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "zh": "Chinese",
}  # fmt: skip


def language_name(tag: str) -> str:
    """Return the English name of a BCP 47 tag's language (`pt-BR`: Portuguese), or the tag."""
    return LANGUAGES.get(tag.split("-")[0].casefold(), tag)


def month_year(moment: datetime) -> str:
    """Return "September 2015"."""
    return f"{MONTHS[moment.month - 1]} {moment.year}"


def human_time(moment: datetime) -> str:
    """Return "10:00 UTC+03:00" in the offset it was written in."""
    offset = moment.strftime("%z")
    zone = "UTC" if offset in ("+0000", "") else f"UTC{offset[:3]}:{offset[3:]}"
    return f"{moment:%H:%M} {zone}"
