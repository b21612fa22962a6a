# ruff: noqa: E501 - Hugo templates are kept one construct per line
"""The generated archive as a Hugo site, so the benchmark can time Hugo on the same content, like for like.

Hugo renders the page kinds our build renders, in the same numbers: a page per briefing;
the home page with the latest 20 and their summaries (not paginated, as ours); tag, region,
source, country and story pages and their indexes, listing titles and dates `per_page` to a page
(the archive's `site.yaml` value, 200 by default); year and month pages (Hugo has none, so
they are taxonomies filled from the date, `per_page` to a page too); the site feed; and a
sitemap (Hugo makes one by default). What differs, and is reported with the figures: our
build also writes a related list on every briefing page (Hugo's `.Related` on every page
made its 10,000-briefing build take 70 s here, and our ranking is ours to measure), an Atom
feed per tag, region, country and story, a JSON Feed, the search index and page, the timeline
page, the corrections record and its feed, and a 404 page; our story pages carry summaries
and each storied briefing links its neighbours in the story; Hugo writes RSS where we write Atom.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.generate import Generated

# What the two builds do not both render, printed with every result.
DIFFERENCES = (
    "Like for like: both render a page per briefing, the home page (latest 20), tag, region, source, "
    "country and story pages and their indexes, year and month pages, listing per_page to a page, the site "
    "feed and a sitemap. Only ours renders a related list on each briefing page, an Atom feed per tag, "
    "region, country and story, a JSON Feed, the search index and page, the timeline, the corrections record "
    "and its feed and a 404 page, summaries on story pages and story neighbours on briefing pages; Hugo "
    "writes RSS, we write Atom."
)

CONFIG = """\
baseURL = "https://briefings.example.org/"
title = "Briefings"
languageCode = "en"
disableKinds = ["section"]
[pagination]
  pagerSize = {per_page}
[taxonomies]
  tag = "tags"
  region = "regions"
  source = "sources"
  country = "countries"
  story = "stories"
  year = "years"
  month = "months"
[permalinks.page]
  posts = "/:year/:month/:slug/"
[outputs]
  home = ["html", "rss"]
  taxonomy = ["html"]
  term = ["html"]
  page = ["html"]
"""

LAYOUTS = {
    "baseof.html": """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ .Title }} · {{ site.Title }}</title>
<meta name="description" content="{{ .Summary | plainify }}"><link rel="canonical" href="{{ .Permalink }}">
<link rel="alternate" type="application/rss+xml" href="{{ site.Home.Permalink }}index.xml"></head>
<body><header><a href="{{ site.Home.RelPermalink }}">{{ site.Title }}</a>
<nav><a href="/tags/">Tags</a> <a href="/regions/">Regions</a> <a href="/sources/">Sources</a></nav></header>
<main>{{ block "main" . }}{{ end }}</main></body></html>
""",
    "page.html": """{{ define "main" }}<article><h1>{{ .Title }}</h1>
<p>{{ .Params.summary }}</p><p><time>{{ .Date.Format "2 January 2006" }}</time></p>
{{ .Content }}
<ul>{{ range .GetTerms "tags" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>
<ul>{{ range .GetTerms "countries" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>
<ul>{{ range .GetTerms "regions" }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>
</article>
{{ end }}
""",
    "list.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
{{ $pager := .Paginate .Pages }}
<ul>{{ range $pager.Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> <time>{{ .Date.Format "2 Jan 2006" }}</time></li>{{ end }}</ul>
{{ with $pager.Prev }}<a href="{{ .URL }}">Newer</a>{{ end }} {{ with $pager.Next }}<a href="{{ .URL }}">Older</a>{{ end }}
{{ end }}
""",
    "taxonomy.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
<ul>{{ range .Data.Terms.Alphabetical }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a> {{ .Count }}</li>{{ end }}</ul>
{{ end }}
""",
    "home.html": """{{ define "main" }}<h1>Latest briefings</h1>
{{ range first 20 site.RegularPages }}<article><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2><p>{{ .Params.summary }}</p></article>{{ end }}
{{ end }}
""",
}


def front_matter(item: Generated) -> str:
    """Return Hugo front matter for one generated briefing."""
    tags = ", ".join(f'"{t}"' for t in item.tags)
    countries = ", ".join(f'"{c}"' for c in item.countries)
    return (
        f'---\ntitle: "{item.title}"\ndate: {item.date.isoformat()}\nslug: {item.slug}\n'
        f'summary: "{item.title}"\ntags: [{tags}]\nregions: ["{item.region}"]\nsources: ["{item.source}"]\n'
        f"countries: [{countries}]\n"
        + (f'stories: ["{item.story}"]\n' if item.story else "")
        + f'years: ["{item.date.year}"]\nmonths: ["{item.date:%Y-%m}"]\n---\n'
    )


def write_hugo_site(out: Path, briefings: Iterable[Generated], per_page: int) -> None:
    """Write a Hugo site for the generated briefings under `out`, listing `per_page` to a page."""
    (out / "layouts").mkdir(parents=True, exist_ok=True)
    (out / "hugo.toml").write_text(CONFIG.replace("{per_page}", str(per_page)), encoding="utf-8")
    for name, text in LAYOUTS.items():
        (out / "layouts" / name).write_text(text, encoding="utf-8")
    for item in briefings:
        body = item.text.split("\n---\n", 1)[1]
        file = out / "content" / "posts" / item.path.removeprefix("content/")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(front_matter(item) + body, encoding="utf-8")
