"""The permanent URL scheme and slugs.

Owns every public URL path of the site (see docs/reference.md, "URLs") and how names become slugs.
Paths here are site-relative (`2015/09/kweiris/`); `href()` adds the base path.
May not touch disk.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

# Lowercase ASCII letters and digits, with hyphens (runs of them too: `a-day---ingeniero`)
# between them, never at either end.
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-+[a-z0-9]+)*$")
SLUG_RULE = "a slug holds lowercase a-z, 0-9 and hyphens, and neither starts nor ends with a hyphen"


def slug_problem(text: str) -> str | None:
    """Return what makes `text` not a slug, naming the first wrong character; None for a slug."""
    if SLUG_RE.match(text):
        return None
    if not text:
        return "it is empty"
    for position, character in enumerate(text, start=1):
        if not ("a" <= character <= "z" or "0" <= character <= "9" or character == "-"):
            kind = "an uppercase letter" if character.isupper() else "not allowed"
            shown = repr(character) if not character.isprintable() or character.isspace() else f'"{character}"'
            return f"character {position}, {shown}, is {kind}"
    return "it starts with a hyphen" if text.startswith("-") else "it ends with a hyphen"


# A path of this site as written in `aliases` and `removed`: from the root, folders ending
# in "/" or a file ending in ".html", in URL-safe characters, with no "." or ".." step.
_SEGMENT = r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*"
SITE_PATH_RE = re.compile(rf"^/(?:{_SEGMENT}/)+$|^/(?:{_SEGMENT}/)*[A-Za-z0-9._~-]+\.html$")
_BRIEFING_PATH_RE = re.compile(r"^/(\d{4})/(\d{2})/([a-z0-9]+(?:-+[a-z0-9]+)*)/$")


def site_path_problem(text: str) -> str | None:
    """Return what makes `text` not a path of this site (`/2015/09/old-slug/`), or None."""
    if SITE_PATH_RE.match(text) and "/../" not in text and "/./" not in text:
        return None
    if not text.startswith("/") or "://" in text:
        return "write it as a path from the site's root, without the host: /2015/09/old-slug/"
    return "write a folder path ending in / or a file ending in .html, of letters, digits and - . _ ~"


def briefing_path_parts(path: str) -> tuple[int, int, str] | None:
    """Return (year, month, slug) of a path in the briefing URL scheme (`/2015/09/kweiris/`), else None."""
    found = _BRIEFING_PATH_RE.match(path)
    return (int(found[1]), int(found[2]), found[3]) if found else None


def fold(name: str) -> str:
    """Return the identity of a name: case, accents and spacing do not count."""
    folded = name.casefold()
    if not folded.isascii():  # accents taken away (most names, tags and countries, are ASCII: no need)
        folded = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    return " ".join(folded.split())


def distinct(names: Iterable[str]) -> tuple[str, ...]:
    """Return names without repeats (case and accents do not count), each at its first place."""
    first: dict[str, str] = {}
    for name in names:
        first.setdefault(fold(name), name)
    return tuple(first.values())


def slugify(name: str) -> str:
    """Return a URL slug: lowercase ASCII letters, digits and single hyphens."""
    ascii_name = unicodedata.normalize("NFKD", fold(name)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")
    # A name in a non-Latin script has no ASCII letters; a short digest keeps it addressable.
    return slug or "x-" + hashlib.sha1(fold(name).encode()).hexdigest()[:8]


def briefing_path(date: datetime, slug: str) -> str:
    """Return `YYYY/MM/slug/`: the calendar date as written, whatever its offset."""
    return f"{date.year:04d}/{date.month:02d}/{slug}/"


def briefing_slug(path: str) -> str:
    """Return the slug of a path `briefing_path` gave (`YYYY/MM/slug/`), found by place."""
    return path[8:-1]


def year_path(year: int) -> str:
    """Return `YYYY/`."""
    return f"{year:04d}/"


def month_path(year: int, month: int) -> str:
    """Return `YYYY/MM/`."""
    return f"{year:04d}/{month:02d}/"


def term_path(kind: str, slug: str) -> str:
    """Return `tags/<slug>/`, `regions/<slug>/` or `sources/<slug>/`."""
    return f"{kind}/{slug}/"


def page_path(first: str, number: int) -> str:
    """Return the path of page `number` of a listing whose first page is `first`."""
    return first if number == 1 else f"{first}page/{number}/"


_FURTHER_PAGE_RE = re.compile(r"(.*?)page/[0-9]+/")


def listing_first(path: str) -> str:
    """Return the first page of the listing a path would be a further page of (`tags/syria/` for
    `tags/syria/page/3/`); any other path is its own first page (`page_path`, the other way)."""
    further = _FURTHER_PAGE_RE.fullmatch(path)
    return further[1] if further else path


# A path from the site's root with nothing `urlsplit` would take apart or clean: it is its own path.
_PLAIN_PATH_RE = re.compile(r"/(?!/)[^#?\t\r\n]*\Z")


def path_of(url: str) -> str:
    """Return `urlsplit(url).path`, without taking apart a plain site path (100,000 bodies link some)."""
    return url if _PLAIN_PATH_RE.match(url) else urlsplit(url).path


def fragment_of(url: str) -> str:
    """Return `urlsplit(url).fragment`: "" at once for a URL without "#"."""
    return urlsplit(url).fragment if "#" in url else ""


def output_file(path: str) -> str:
    """Return the file that serves a path: directories get `index.html`."""
    return path + "index.html" if path == "" or path.endswith("/") else path


def page_paths(output: str) -> tuple[str, ...]:
    """Return the paths that `output_file` gives this file for, most likely first: a folder's
    (`2015/09/x/` for `2015/09/x/index.html`), then the file's own."""
    if output == "index.html" or output.endswith("/index.html"):
        return output.removesuffix("index.html"), output
    return (output,)


def href(base_path: str, path: str) -> str:
    """Return a link under the site's base path (`/` or `/<repo>/`)."""
    return base_path + path


def src_url(base: str, src: str) -> str:
    """Return an image src for output: an http(s) URL as written, a site path under `base`."""
    return src if "://" in src else base + src.lstrip("/")


MEDIA = "media/"  # where files kept beside briefings in content/ are served: content/2019/x.png -> /media/2019/x.png


def media_path(repo_path: str) -> str:
    """Return the site path of a file kept in `content/` beside the briefings (an image)."""
    return MEDIA + repo_path.removeprefix("content/")
