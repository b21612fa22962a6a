"""Generate a synthetic briefings archive, valid under the schema, for benchmarks and tests.

    python -m bench.generate OUT --count 10000 [--seed 1] [--hugo]

The same count and seed always give the same bytes. Briefings span ten years (2015-2024),
every region of the repository's `site.yaml`, a dozen sources, and tags drawn from a Zipf
distribution: a few tags sit on most briefings, most tags on a handful. One briefing in five
is part of a developing story (about twenty briefings each, close in time), and one in fifty
has a correction. Bodies are about
4.7 KB of Markdown with headings, lists, a table now and then, and links to earlier
briefings. With `--hugo`, OUT/hugo/ holds the same briefings as a Hugo site whose page
kinds match ours (briefing, home, paginated tag, region and source pages, years, months).
"""

from __future__ import annotations

import argparse
import random
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
YEARS = range(2015, 2025)
SOURCES = (
    ("TRT World", "https://www.trtworld.com/"), ("Reuters", "https://www.reuters.com/"),
    ("Associated Press", "https://apnews.com/"), ("BBC News", "https://www.bbc.com/news"),
    ("Al Jazeera", "https://www.aljazeera.com/"), ("France 24", "https://www.france24.com/"),
    ("Deutsche Welle", "https://www.dw.com/"), ("The Guardian", "https://www.theguardian.com/"),
    ("NHK World", "https://www3.nhk.or.jp/nhkworld/"), ("Agence France-Presse", "https://www.afp.com/"),
    ("Euronews", "https://www.euronews.com/"), ("Kyodo News", "https://english.kyodonews.net/"),
)  # fmt: skip
REGIONS = ("Middle East", "Europe", "Africa", "Asia-Pacific", "Americas", "Global")
COUNTRIES = ("Syria", "Turkey", "Russia", "France", "Germany", "Nigeria", "Kenya", "India",
             "Japan", "Brazil", "Mexico", "United States", "Iraq", "Iran", "Egypt", "Ukraine")  # fmt: skip
WORDS = [
    "government",
    "officials",
    "said",
    "the",
    "ceasefire",
    "talks",
    "resumed",
    "after",
    "negotiators",
    "from",
    "both",
    "sides",
    "met",
    "overnight",
    "in",
    "the",
    "capital",
    "where",
    "protesters",
    "gathered",
    "outside",
    "parliament",
    "demanding",
    "elections",
    "while",
    "aid",
    "agencies",
    "warned",
    "that",
    "food",
    "supplies",
    "in",
    "the",
    "region",
    "could",
    "run",
    "out",
    "within",
    "weeks",
    "as",
    "the",
    "conflict",
    "displaced",
    "thousands",
    "of",
    "families",
    "from",
    "villages",
    "near",
    "the",
    "border",
    "and",
    "the",
    "central",
    "bank",
    "raised",
    "interest",
    "rates",
    "to",
    "curb",
    "inflation",
    "that",
    "has",
    "eroded",
    "wages",
    "across",
    "the",
    "economy",
    "analysts",
    "expect",
    "the",
    "vote",
    "to",
    "reshape",
    "the",
    "coalition",
    "and",
    "markets",
    "reacted",
    "calmly",
    "to",
    "the",
    "news",
]
TAG_COUNT = 400
STORY_SHARE, CORRECTION_SHARE = 1 / 5, 1 / 50  # of briefings
STORY_WINDOW, STORIES_AT_ONCE = 500, 5  # briefings in a row share STORIES_AT_ONCE stories: about 20 each


@dataclass(frozen=True)
class Generated:
    """One briefing of the synthetic archive: where it goes and its text."""

    path: str  # content/YYYY/slug.md
    date: datetime
    slug: str
    title: str
    region: str
    source: str
    tags: tuple[str, ...]
    countries: tuple[str, ...]
    text: str
    story: str | None = None


def tag_names() -> list[str]:
    """Return the tag vocabulary, most popular first."""
    return [f"Topic {n:03d}" for n in range(TAG_COUNT)]


def pick_tags(rng: random.Random, names: list[str], weights: list[float]) -> tuple[str, ...]:
    """Pick 2-8 distinct tags from a Zipf distribution."""
    wanted = rng.randint(2, 8)
    chosen: dict[str, None] = {}
    while len(chosen) < wanted:
        chosen[rng.choices(names, weights)[0]] = None
    return tuple(chosen)


def sentence(rng: random.Random, low: int = 8, high: int = 22) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))


def body(rng: random.Random, earlier: list[Generated]) -> str:
    """Return about 4.7 KB of Markdown: paragraphs, headings, a list, links, a table sometimes."""
    parts = [paragraph(rng), paragraph(rng)]
    for number in range(rng.randint(2, 3)):
        parts.append(f"## {sentence(rng, 2, 5)[:-1]}")
        parts += [paragraph(rng) for _ in range(rng.randint(1, 3))]
        if number == 0:
            parts.append("\n".join(f"- {sentence(rng, 4, 10)}" for _ in range(rng.randint(2, 5))))
    if earlier:
        other = earlier[rng.randrange(len(earlier))]
        year = other.path.split("/")[1]
        parts.append(f"Background: [{other.title}](../{year}/{other.slug}.md) and [all of {other.region}](/regions/).")
    if rng.random() < 0.2:
        rows = "\n".join(f"| {rng.choice(WORDS)} | {rng.randint(1, 999)} |" for _ in range(4))
        parts.append(f"| Item | Count |\n|---|---|\n{rows}")
    text = "\n\n".join(parts)
    while len(text) < 4400:
        text += "\n\n" + paragraph(rng)
    return text + "\n"


def generate(count: int, seed: int = 1) -> list[Generated]:
    """Return `count` briefings, oldest first, deterministically from `seed`."""
    rng = random.Random(seed)
    names = tag_names()
    weights = [1 / (rank + 1) ** 1.05 for rank in range(len(names))]
    start = datetime(YEARS[0], 1, 1, tzinfo=UTC)
    span = (datetime(YEARS[-1] + 1, 1, 1, tzinfo=UTC) - start).total_seconds()
    moments = sorted(start + timedelta(seconds=int(rng.random() * span)) for _ in range(count))
    made: list[Generated] = []
    side = random.Random(seed + 1)  # stories and corrections: the rest stays as it was without them
    for number, moment in enumerate(moments):
        offset = timezone(timedelta(hours=rng.choice((0, 1, 3, -5))))
        local = moment.astimezone(offset)
        title = f"{sentence(rng, 5, 10)[:-1]} ({number})"
        slug = f"briefing-{number:06d}"
        region, (source, url) = rng.choice(REGIONS), rng.choice(SOURCES)
        tags = pick_tags(rng, names, weights)
        countries = tuple(rng.sample(COUNTRIES, rng.randint(1, 3)))
        story = None
        if side.random() < STORY_SHARE:
            story = f"Story {number // STORY_WINDOW:04d}-{side.randrange(STORIES_AT_ONCE)}"
        extra = f"story: {story}\n" if story else ""
        if side.random() < CORRECTION_SHARE:
            extra += f"corrections:\n  - date: {(local + timedelta(days=1)).isoformat()}\n    text: {sentence(side)}\n"
        front = (
            f"---\ntitle: {title}\ndate: {local.isoformat()}\nsummary: {sentence(rng, 15, 30)}\n"
            f"source:\n  name: {source}\n  url: {url}\ncredit: Reporting by {source}\nregion: {region}\n"
            f"countries: [{', '.join(countries)}]\ntags: [{', '.join(tags)}]\n{extra}---\n"
        )
        path = f"content/{local.year}/{slug}.md"
        text = front + body(rng, made[-50:])
        item = Generated(path, local, slug, title, region, source, tags, countries, text, story)
        made.append(item)
    return made


def write_archive(out: Path, briefings: list[Generated]) -> None:
    """Write an archive folder: the repository's site.yaml, templates and static, and the briefings."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    shutil.copy(REPO / "site.yaml", out / "site.yaml")
    for folder in ("templates", "static"):
        shutil.copytree(REPO / folder, out / folder)
    for item in briefings:
        file = out / item.path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(item.text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="the folder to create (replaced if it exists)")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--hugo", action="store_true", help="also write OUT/hugo/, the same archive as a Hugo site")
    args = parser.parse_args()
    briefings = generate(args.count, args.seed)
    write_archive(args.out, briefings)
    if args.hugo:
        from bench.hugo import write_hugo_site
        from briefings.config import load_config

        write_hugo_site(args.out / "hugo", briefings, load_config(args.out / "site.yaml").per_page)
    print(f"Wrote {len(briefings)} briefings to {args.out}")


if __name__ == "__main__":
    main()
