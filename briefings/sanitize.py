"""Authors' HTML as GitHub treats it: through an allowlist sanitiser (Ammonia, by `nh3`).

Owns the allowlist a rendered body passes through unless `site.yaml` trusts raw HTML
(`markdown: allow_html: true`). It is close to GitHub's (its html-pipeline sanitisation
filter): comments dropped; headings, emphasis, links with `href`/`id`/`name`, images,
tables, lists, `details`/`summary`, `sup`/`sub`, `kbd`, `abbr`, `mark`, `ruby` and the like
kept; `script`, `style`, `iframe`, `object`, forms and event-handler attributes removed with
what they hold; only `http`, `https` and `mailto` links and relative ones kept. Unlike
GitHub, ids are not prefixed with `user-content-` (the page's own ids are reserved
instead) and `class` is kept (it only selects the site's own styles). docs/reference.md
states the list. Pure. May not do I/O.
"""

from __future__ import annotations

import functools
import hashlib
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nh3

TAGS = frozenset({
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "b", "i", "strong", "em", "a", "pre", "code", "img",
    "tt", "div", "span", "ins", "del", "s", "strike", "sup", "sub", "ol", "ul", "li", "dl", "dt", "dd",
    "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col", "blockquote", "q",
    "kbd", "samp", "var", "abbr", "bdo", "cite", "dfn", "mark", "small", "time", "wbr", "ruby", "rt", "rp",
    "details", "summary", "figure", "figcaption", "picture", "source", "section", "input",
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub", "msubsup", "mfrac", "msqrt",
    "mroot", "munder", "mover", "munderover", "mtable", "mtr", "mtd", "semantics", "annotation",
})  # fmt: skip
EVERYWHERE = frozenset({
    "id", "name", "class", "title", "lang", "dir", "align", "valign", "width", "height", "role", "hidden",
    "aria-label", "aria-hidden", "aria-describedby", "aria-labelledby", "itemprop", "datetime", "cite",
    "colspan", "rowspan", "headers", "scope", "abbr", "span", "start", "reversed", "type", "value", "open",
    "tabindex",
})  # fmt: skip
ATTRIBUTES = {
    "*": set(EVERYWHERE),
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "srcset", "sizes", "loading", "longdesc"},
    "source": {"srcset", "media", "sizes"},
    "input": {"checked", "disabled"},
    "th": {"style"},  # markdown tables align columns with `style="text-align:..."`
    "td": {"style"},
    "math": {"display", "xmlns"},
    "annotation": {"encoding"},
}
# Removed with everything inside them, not only their tags.
DROPPED = frozenset({"script", "style", "iframe", "object", "embed", "noscript", "template", "textarea", "select"})


@functools.cache
def _cleaner() -> nh3.Cleaner:
    """Return the allowlist's cleaner, made on first use: `nh3` is loaded only by a process that
    sanitises a body (most bodies have no raw HTML; loading it was 5 to 8 ms of every build's
    start, `python -X importtime`)."""
    import nh3

    return nh3.Cleaner(
        tags=set(TAGS),
        clean_content_tags=set(DROPPED),
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
        strip_comments=True,
        filter_style_properties={"text-align"},
    )


_MARK_RE = re.compile("\x00(\\d+)\x00")


def sanitize(html: str) -> str:
    """Return a rendered body's HTML through the allowlist, its link placeholders (NUL, a number,
    NUL: see `markdown.PLACEHOLDER`) kept, though HTML parsers turn NUL into U+FFFD."""
    if "\x00" not in html:
        return _cleaner().clean(html)
    # A stand-in the text cannot hold: it has no NUL, so check it is not in the text already.
    stand_in = "x-briefings-link-" + hashlib.blake2b(html.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
    while stand_in in html:
        stand_in += "x"
    clean = _cleaner().clean(_MARK_RE.sub(lambda match: f"{stand_in}-{match[1]}-", html)).split(stand_in + "-")
    back = [clean[0]]
    for part in clean[1:]:  # "<number>-<what follows>"
        number, _, rest = part.partition("-")
        back += ("\x00", number, "\x00", rest)
    return "".join(back)
