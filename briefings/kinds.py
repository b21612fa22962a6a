"""The kinds of listing: tags, regions, sources and countries, declared once.

Owns the registry every stage reads to know which front-matter fields give listing pages:
the field, its names for readers and messages, its URL prefix, whether its terms have a
feed and a search filter, and where its names come from (which decides "did you mean").
The model, pages, feeds, plan, search, schema and command line loop over `KINDS`; adding
a kind is one entry here, its field in the front matter, and its templates.
May not import the rest of the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Where a kind's names come from:
# - "site": the list in site.yaml (regions): every one has a page, in that order, even when empty;
#   any other name is an error with "did you mean".
# - "known": any name, but one close to a known name or to a more used one, and not known itself,
#   is an error with "did you mean" (countries: a built-in list plus site.yaml's `known_countries`;
#   tags: `known_tags` and the canonical tags of `tag_aliases`; stories: site.yaml's `stories`),
#   so "Ceasefire" does not quietly make a page beside "Ceasefires".
# - "free": any name (sources).
Vocabulary = Literal["site", "known", "free"]


@dataclass(frozen=True)
class Kind:
    """One kind of listing: a front-matter field whose names each get a page of their briefings."""

    name: str  # "tags": the URL prefix (/tags/<slug>/), the index page and the size report's group
    field: str  # the front-matter field and the `Entry` attribute holding its terms: "tags", "region"
    singular: str  # "tag", in messages and the summary line
    plural: str  # "tags"
    label: str  # "Tags": the index page's title
    label_one: str  # "Tag": before a term's name ("Tag: Syria")
    many: bool  # the field is a list of names (else one name, which may be optional: a story)
    feed: bool  # each term has an Atom feed at /<name>/<slug>/feed.xml
    facet: str | None  # the search page's filter by this kind, if it has one
    vocabulary: Vocabulary
    known: str = ""  # with "known": the site.yaml key that lists names known to be right
    # A kind whose name (known, or used as one) this kind's names give way to: a tag "Russia"
    # is the country Russia, so readers meet one Russia page, not a tag page and a country page.
    merges_into: str = ""
    # A chronicle (a developing story) is read from its start: its pages list its briefings oldest
    # first with their summaries, its index lists terms by their latest briefing, each briefing
    # links its neighbours in it, and its pages' URLs are permanent (the permalink guard keeps them).
    chronicle: bool = False
    template: str = "term.html"  # of each term's pages
    index_template: str = "terms.html"  # of the kind's index, /<name>/


KINDS: tuple[Kind, ...] = (
    Kind("tags", "tags", "tag", "tags", "Tags", "Tag", True, True, "tag", "known", "known_tags", "countries"),
    Kind("regions", "region", "region", "regions", "Regions", "Region", False, True, "region", "site"),
    Kind("sources", "source", "source", "sources", "Sources", "Source", False, False, "source", "free"),
    Kind(
        "countries",
        "countries",
        "country",
        "countries",
        "Countries",
        "Country",
        True,
        True,
        "country",
        "known",
        "known_countries",
    ),
    Kind(
        "stories",
        "story",
        "story",
        "stories",
        "Stories",
        "Story",
        False,
        True,
        "story",
        "known",
        "stories",
        chronicle=True,
        template="story.html",
        index_template="stories.html",
    ),
)
BY_NAME = {kind.name: kind for kind in KINDS}
