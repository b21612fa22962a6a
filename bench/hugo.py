# ruff: noqa: E501 - Hugo templates are kept one construct per line
"""The generated archive as a Hugo site, so the benchmark can time Hugo on the same content.

Page kinds are those the engine issue measured Hugo with: a page per briefing (with
newer/older links), the home page, paginated tag, region and source pages with their
indexes (and country pages, like ours, since the real-archives issue), year and month pages, and one site feed. Hugo has no year or month pages, so
they are taxonomies filled from the date. No related list: Hugo's `.Related` on every
page made its 10,000-briefing build take 70 s here, and our related ranking is ours to
measure, not Hugo's. Our build also writes per-tag and per-region feeds, a JSON Feed and
a sitemap with lastmod, which this site does not ask of Hugo.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench.generate import Generated

CONFIG = """\
baseURL = "https://briefings.example.org/"
title = "Briefings"
languageCode = "en"
disableKinds = ["section"]
[pagination]
  pagerSize = 10
[taxonomies]
  tag = "tags"
  region = "regions"
  source = "sources"
  country = "countries"
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
<nav>{{ with .PrevInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
{{ with .NextInSection }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}</nav>
{{ end }}
""",
    "list.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
{{ $pager := .Paginate .Pages }}
{{ range $pager.Pages }}<article><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
<p><time>{{ .Date.Format "2 January 2006" }}</time></p><p>{{ .Params.summary }}</p></article>{{ end }}
{{ with $pager.Prev }}<a href="{{ .URL }}">Newer</a>{{ end }} {{ with $pager.Next }}<a href="{{ .URL }}">Older</a>{{ end }}
{{ end }}
""",
    "taxonomy.html": """{{ define "main" }}<h1>{{ .Title }}</h1>
<ul>{{ range .Data.Terms.Alphabetical }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a> {{ .Count }}</li>{{ end }}</ul>
{{ end }}
""",
    "home.html": """{{ define "main" }}<h1>Latest briefings</h1>
{{ $pager := .Paginate site.RegularPages }}
{{ range $pager.Pages }}<article><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2><p>{{ .Params.summary }}</p></article>{{ end }}
{{ with $pager.Next }}<a href="{{ .URL }}">Older</a>{{ end }}
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
        f'years: ["{item.date.year}"]\nmonths: ["{item.date:%Y-%m}"]\n---\n'
    )


def write_hugo_site(out: Path, briefings: Iterable[Generated]) -> None:
    """Write a Hugo site for the generated briefings under `out`."""
    (out / "layouts").mkdir(parents=True, exist_ok=True)
    (out / "hugo.toml").write_text(CONFIG, encoding="utf-8")
    for name, text in LAYOUTS.items():
        (out / "layouts" / name).write_text(text, encoding="utf-8")
    for item in briefings:
        body = item.text.split("\n---\n", 1)[1]
        file = out / "content" / "posts" / item.path.removeprefix("content/")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(front_matter(item) + body, encoding="utf-8")
