"""Reading a built site as a user agent would: parsed HTML, resolved links."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html

LISTED = "//ol[contains(@class, 'dated')]/li/a"  # the titles a listing page lists
LISTED_ITEMS = "//ol[contains(@class, 'dated')]/li"


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def published_pages(site: Path) -> list[Path]:
    """Return the HTML pages the site publishes: all but the redirects at URLs given up."""
    return [file for file in html_files(site) if not parse(file).xpath("//meta[@http-equiv='refresh']")]


def parse(file: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(file.read_bytes())


def page(site: Path, path: str) -> lxml.html.HtmlElement:
    """Parse the page served at a site path such as `tags/isis/`."""
    return parse(site / (path + "index.html" if path == "" or path.endswith("/") else path))


def internal_links(doc: lxml.html.HtmlElement) -> Iterator[str]:
    """Yield every href/src of the page that points inside the site."""
    for element, attribute, link, _ in doc.iterlinks():
        if element.tag == "a" and attribute != "href":
            continue
        parts = urlsplit(link)
        if parts.scheme in ("", "http", "https") and not parts.netloc:
            yield link


def resolve(site: Path, base_path: str, source: Path, link: str) -> tuple[Path | None, str]:
    """Return the file a link points to (None when it escapes the base path) and its fragment."""
    parts = urlsplit(link)
    path = unquote(parts.path)
    if path.startswith("/"):
        if not path.startswith(base_path):
            return None, parts.fragment
        target = site / path[len(base_path) :]
    elif path:
        target = source.parent / path
    else:
        target = source
    if path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target.resolve(), parts.fragment


def broken_links(site: Path, base_path: str) -> list[str]:
    """Crawl every page; return `page -> link` for links to missing files or missing ids."""
    broken: list[str] = []
    ids: dict[Path, set[str]] = {}
    for file in html_files(site):
        for link in internal_links(parse(file)):
            target, fragment = resolve(site, base_path, file, link)
            if target is None or not target.is_file() or not target.is_relative_to(site.resolve()):
                broken.append(f"{file.relative_to(site)} -> {link}")
                continue
            if fragment and target.suffix == ".html":
                known = ids.setdefault(target, {str(i) for i in parse(target).xpath("//@id")})
                if fragment not in known:
                    broken.append(f"{file.relative_to(site)} -> {link} (no id)")
    return broken


def texts(doc: lxml.html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in doc.xpath(xpath)]
