"""Search: the index the build writes, and /search/ in headless Chromium under "/" and "/archive/"."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import threading
from array import array
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from playwright.sync_api import Browser, Page, sync_playwright

from briefings import search as search_module
from briefings.search import (
    Postings,
    Splice,
    _moved,
    _postings,
    _spliced_encoding,
    _updated,
    decode_postings,
    encode_postings,
    postings_from,
    postings_tables,
    term_key,
)
from briefings.words import stem, tokens, words_of
from tests.conftest import REPO, SITE_YAML, briefing, build, make_archive
from tests.sitetools import page as parse_page
from tests.test_browser import CHROMIUM, FLAGS, QuietHandler

FILES = {
    "2015/kweiris.md": briefing("Jets strike near the airbase", body="Russian jets flew from Kweiris at dawn."),
    "2015/truce.md": briefing("Truce talks open", "2015-09-25", body="A ceasefire was proposed in Geneva."),
    "2015/holds.md": briefing("Truce holds", "2015-09-26", body="The ceasefire held overnight, officials said."),
    "2015/europe.md": briefing(
        "Ukraine talks", "2015-09-27", region="Europe", tags="[Ukraine]", body="A ceasefire in Donbas was agreed."
    ),
    "2015/aleppo-ru.md": briefing(
        "Перемирие в Алеппо", "2015-09-28", extra="language: ru\n", body="Стороны договорились о перемирии."
    ),
    "2015/cafe.md": briefing("Café owners protest", "2015-09-29", region="Europe", body="Crème brûlée prices rose."),
    "2015/measures.md": briefing(  # found by its tag only, and only as a plural
        "Measures renewed", "2015-09-30", region="Europe", tags="[Sanctions]", body="Ministers extended them."
    ),
}


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Serve the fixture archive built for "/" and for "/archive/"; return their addresses."""
    www = tmp_path_factory.mktemp("www")
    root = make_archive(tmp_path_factory.mktemp("search"), FILES)
    shutil.copytree(build(root, "--base-url", "http://127.0.0.1/"), www, dirs_exist_ok=True)
    shutil.copytree(build(root, "--base-url", "http://127.0.0.1/archive/"), www / "archive")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(www)))
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}/"
    yield {"/": base, "/archive/": base + "archive/"}
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: run scripts/install-test-tools (make test does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        launched.close()


def results(page: Page, query: str) -> list[str]:
    """Type a query; return the titles found, once the status reports that query."""
    page.fill("#q", query)
    return shown(page, f"for “{query}”")


def shown(page: Page, status: str) -> list[str]:
    """Return the titles listed once the status says `status` and every excerpt is in."""
    page.wait_for_function("s => document.getElementById('search-status').textContent.includes(s)", arg=status)
    titles = page.locator("#results h2 a").all_inner_texts()
    if len(titles) < 10:  # all of them are listed: the count must say as many
        said = page.locator("#search-status").inner_text()
        count = f"{len(titles)} briefing{'' if len(titles) == 1 else 's'} " if titles else "No briefings "
        assert said.startswith(count), said
    return titles


@pytest.fixture(params=["/", "/archive/"])
def search(request: pytest.FixtureRequest, sites: dict[str, str], browser: Browser) -> Iterator[Page]:
    """The search page, opened in Chromium, under each base path; fails on any script error or 404."""
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.goto(sites[request.param] + "search/")
    page.wait_for_selector("#search:not([hidden])")
    page.base = sites[request.param]  # type: ignore[attr-defined]
    yield page
    page.close()
    assert problems == []


def test_a_word_only_one_briefing_has_finds_exactly_it(search: Page) -> None:
    assert results(search, "Kweiris") == ["Jets strike near the airbase"]
    link = search.locator("#results h2 a").first
    assert link.evaluate("a => a.href") == search.base + "2015/09/kweiris/"  # type: ignore[attr-defined]
    assert search.locator("#results mark").all_inner_texts() == ["Kweiris"]


def test_a_region_filter_narrows_a_common_word(search: Page) -> None:
    assert results(search, "ceasefire") == ["Ukraine talks", "Truce holds", "Truce talks open"]
    search.select_option("#f-region", "Europe")
    assert shown(search, "(Europe)") == ["Ukraine talks"]
    assert "region=Europe" in search.url and "q=ceasefire" in search.url


def test_a_country_filter_finds_a_briefing_tagged_with_the_countrys_name(search: Page) -> None:
    assert results(search, "ceasefire") == ["Ukraine talks", "Truce holds", "Truce talks open"]
    search.select_option("#f-country", "Ukraine")  # it was written `tags: [Ukraine]`
    assert shown(search, "(Ukraine)") == ["Ukraine talks"]
    assert "country=Ukraine" in search.url


def test_a_tag_is_found_as_a_word_and_singular_and_plural_meet(search: Page) -> None:
    assert results(search, "sanction") == ["Measures renewed"]  # its tag is "Sanctions"; its text never says it
    assert results(search, "sanctions") == ["Measures renewed"]
    assert results(search, "ceasefires") == ["Ukraine talks", "Truce holds", "Truce talks open"]


def test_each_result_says_when_where_and_who_with_the_words_marked_in_its_title(search: Page) -> None:
    assert results(search, "truce") == ["Truce holds", "Truce talks open"]
    assert search.locator("#results .meta").all_inner_texts() == [
        "26 September 2015 · Middle East · TRT World",
        "25 September 2015 · Middle East · TRT World",
    ]
    assert search.locator("#results h2 mark").all_inner_texts() == ["Truce", "Truce"]


def test_the_filters_fold_away_on_a_phone(browser: Browser, sites: dict[str, str]) -> None:
    for width, folded in ((390, True), (1280, False)):
        page = browser.new_page(viewport={"width": width, "height": 800})
        page.goto(sites["/"] + "search/")
        page.wait_for_selector("#search:not([hidden])")
        assert page.locator("#f-region").is_visible() is not folded, width
        page.close()


def test_the_stemmer_is_the_same_in_python_and_javascript() -> None:
    words = ["ceasefires", "ceasefire", "countries", "series", "talks", "crisis", "news", "gas", "bus",
             "species", "shoes", "trees", "agreed", "process", "status", "bias", "ties", "aies", "1990s", "s",
             "σεισμός"]  # fmt: skip
    source = (REPO / "static" / "search.js").read_text(encoding="utf-8")
    function = re.search(r"  const stem = \(word\) => \{.*?\n  \};\n", source, re.S)
    assert function is not None, "static/search.js has no `const stem = (word) => {...};`"
    script = function[0] + f"process.stdout.write(JSON.stringify({json.dumps(words)}.map(stem)));"
    javascript = json.loads(subprocess.run(["node", "-e", script], capture_output=True, check=True, text=True).stdout)
    assert javascript == [stem(word) for word in words]
    assert javascript[:8] == ["ceasefire", "ceasefire", "country", "sery", "talk", "crisi", "new", "gas"]


def test_a_word_only_in_the_navigation_finds_nothing(search: Page) -> None:
    assert results(search, "timeline") == []
    assert search.locator("#search-status").inner_text().startswith("No briefings")


def test_non_latin_words_and_accents(search: Page) -> None:
    assert results(search, "Алеппо") == ["Перемирие в Алеппо"]
    assert search.locator("#results h2 a").first.get_attribute("lang") == "ru"
    assert results(search, "cafe creme") == ["Café owners protest"]


def test_the_query_is_in_the_address_and_restored(search: Page) -> None:
    search.goto(search.base + "search/?q=truce&year=2015")  # type: ignore[attr-defined]
    assert shown(search, "for “truce” (2015)") == ["Truce holds", "Truce talks open"]
    assert search.input_value("#q") == "truce" and search.input_value("#f-year") == "2015"


def test_without_javascript_the_page_offers_the_indexes(sites: dict[str, str], browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(sites["/archive/"] + "search/")
    assert page.locator("#search").is_hidden()
    links = page.locator("#no-script a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    indexes = ("tags", "regions", "countries", "sources", "timeline")
    assert links == [f"/archive/{name}/" for name in indexes]
    context.close()


def test_only_the_search_page_loads_a_script(tmp_path: Path) -> None:
    site = build(make_archive(tmp_path / "a", FILES))
    for file in site.rglob("*.html"):
        scripts = parse_page(site, file.relative_to(site).as_posix()).xpath("//script[@src]/@src")
        expected = ["/search.js"] if file.parent.name == "search" else []
        assert [src.split("?")[0] for src in scripts] == expected, file


def test_the_index_holds_title_summary_and_body_words_only(tmp_path: Path) -> None:
    site = build(make_archive(tmp_path / "a", FILES))
    terms = {term for file in (site / "search" / "t").glob("*.json") for term in json.loads(file.read_text())}
    assert {"kweiri", "ceasefire", "алеппо", "cafe", "creme", "2015", "truce"} <= terms  # stems
    assert not {"timeline", "latest", "related", "middle", "ukraine"} - {"ukraine"} & terms
    meta = json.loads((site / "search" / "index.json").read_text())
    assert meta["count"] == 7 and dict(meta["facets"]["region"]) == {"Middle East": 4, "Europe": 3}
    assert meta["stem"] == "en" and "sanction" in terms and "sanctions" not in terms


def test_search_can_be_turned_off(tmp_path: Path) -> None:
    site = build(make_archive(tmp_path / "a", FILES, SITE_YAML + "search: false\n"))
    assert not (site / "search").exists()
    assert "Search" not in parse_page(site, "").xpath("//nav[@id='site-nav']//a/text()")


@given(st.sets(st.integers(0, 999)))
def test_postings_round_trip_in_the_smaller_encoding(numbers: set[int]) -> None:
    ordered = sorted(numbers)
    encoded = encode_postings(ordered)
    assert decode_postings(encoded) == ordered
    gaps = [b - a for a, b in zip([-1, *ordered], ordered, strict=False)]
    varint = sum(1 + (gap.bit_length() - 1) // 7 for gap in gaps)  # bytes: seven bits each
    bitmap = ordered[-1] // 8 + 1 if ordered else 0
    assert encoded[0] == ("v" if varint <= bitmap else "b")


@given(st.lists(st.integers(0, 2**32 - 1), max_size=50), st.data())
def test_packed_numbers_moved_at_once_are_each_number_moved(numbers: list[int], data: st.DataObject) -> None:
    """`_moved` moves every number of a packed run as one integer: each must come out as if moved
    alone, the smallest to 0 and the largest to the top, with no carry or borrow between them."""
    low, high = min(numbers, default=0), max(numbers, default=0)
    by = data.draw(st.integers(-low, 2**32 - 1 - high))
    moved = _moved(array("I", numbers).tobytes(), by)
    assert array("I", moved).tolist() == [number + by for number in numbers]


@given(st.sets(st.integers(0, 600), min_size=1), st.data())
def test_an_encoding_spliced_for_a_run_renumbered_is_the_encoding_made_afresh(
    numbers: set[int], data: st.DataObject
) -> None:
    """After briefings added or removed mid-archive, a term's encoding is spliced from its last one
    (`_spliced_encoding`): its numbers in a run give way to others, those after it move. Where it
    gives one, it must be the one made afresh."""
    ordered = array("I", sorted(numbers))
    low = data.draw(st.integers(0, len(ordered)))
    high = data.draw(st.integers(low, len(ordered)))
    before = ordered[low - 1] if low else -1
    moved = data.draw(st.integers(before + 1 - ordered[high], 40)) if high < len(ordered) else 0
    limit = ordered[high] + moved if high < len(ordered) else before + 60  # the gained lie between
    gained = sorted(data.draw(st.sets(st.integers(before + 1, limit - 1)))) if limit - 1 > before else []
    spliced = _spliced_encoding(encode_postings(ordered), ordered, Splice(low, high, gained, moved))
    renumbered = [*ordered[:low], *gained, *(n + moved for n in ordered[high:])]
    assert spliced is None or spliced == encode_postings(renumbered)


@pytest.mark.parametrize(
    ("numbers", "change", "kind"),
    [
        (range(100, 400), Splice(150, 150, [], 1), "b"),  # every number: a bitmap, the upper half a place on
        (range(100, 400), Splice(150, 151, [], -1), "b"),  # every number, one taken out
        (range(100, 400), Splice(150, 150, [250], 1), "b"),  # every number, one put in
        (range(0, 9000, 30), Splice(100, 100, [], 1), "v"),  # one number in thirty: gaps of a byte each
        (range(0, 9000, 30), Splice(100, 101, [3001, 3010], 1), "v"),
        (range(2, 9000, 30), Splice(0, 0, [], -2), "v"),
        (range(0, 800, 8), Splice(50, 51, [401], 0), "v"),  # as many numbers as a bitmap's bytes: still gaps
    ],
)
def test_a_common_words_encoding_is_spliced_in_either_form(numbers: Sequence[int], change: Splice, kind: str) -> None:
    ordered = array("I", numbers)
    spliced = _spliced_encoding(encode_postings(ordered), ordered, change)
    assert spliced is not None and spliced[0] == kind
    low, high, gained, moved = change
    assert decode_postings(spliced) == [*ordered[:low], *gained, *(n + moved for n in ordered[high:])]


def test_a_result_links_to_its_briefing_whatever_the_year(tmp_path: Path) -> None:
    """The client reads a document as `YYYY-MM-DD/slug` (ten characters, then the slug), and the
    page is at `YYYY/MM/slug/` with the year in four digits: so too in the year 999."""
    files = {
        "0999/chronicle.md": briefing("A chronicle", "0999-09-24", body="Monks wrote it down."),
        **{name: FILES[name] for name in ("2015/kweiris.md", "2015/truce.md")},
    }
    site = build(make_archive(tmp_path / "a", files))
    documents = json.loads((site / "search" / "d" / "0.json").read_text())
    assert documents[0] == "0999-09-24/chronicle"
    year, month, _ = documents[0][:10].split("-")  # as search.js reads it
    assert (site / year / month / documents[0][11:] / "index.html").is_file()
    assert documents[1:] == ["2015-09-24/kweiris", "2015-09-25/truce"]


@given(st.text())
def test_the_fast_word_list_equals_the_plain_tokenizer(text: str) -> None:
    body = text.replace("<", "").replace("&", "")  # as HTML text: no tags or entities
    expected = " ".join(sorted({w for w in tokens(f"t s {body} 2015") if len(w) <= 40}))
    assert words_of("t", "s", body, 2015) == expected


def test_more_results_come_ten_at_a_time(tmp_path: Path, browser: Browser) -> None:
    files = {
        f"2016/b{n:02d}.md": briefing(f"Story {n:02d}", f"2016-01-{n + 1:02d}", body="Aid arrived.") for n in range(25)
    }
    site = build(make_archive(tmp_path / "a", files))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{server.server_port}/search/?q=aid")
        assert shown(page, "25 briefings for “aid”") == [f"Story {n:02d}" for n in range(24, 14, -1)]
        page.click("#more")
        page.wait_for_function("document.querySelectorAll('#results h2 a').length === 20")
        page.click("#more")
        page.wait_for_function("document.querySelectorAll('#results h2 a').length === 25")
        assert page.locator("#results h2 a").all_inner_texts()[-1] == "Story 00"
        assert page.locator("#more").is_hidden()
        page.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_turning_search_on_again_indexes_every_briefing(tmp_path: Path) -> None:
    root = make_archive(tmp_path / "a", FILES, SITE_YAML + "search: false\n")
    build(root)  # with search off, no words are kept: turning it on must parse again
    (root / "site.yaml").write_text(SITE_YAML)
    site = build(root)
    terms = {term for file in (site / "search" / "t").glob("*.json") for term in json.loads(file.read_text())}
    assert {"kweiri", "ceasefire", "алеппо"} <= terms


@pytest.mark.parametrize("docs", [(), ("3d74840e6360ca1c51b7344cd922b952",), ("a1", "b2", "a1")])
def test_postings_come_back_equal_from_the_tables_the_cache_keeps(docs: tuple[str, ...]) -> None:
    postings = Postings("stamp", docs, {"word": b"\x00"}, {"word": "AA"}, {"776f": ["word"]}, {"776f": b"{}"})
    postings.shape, postings.listing = b"shape", ({"search/f/tags.json": b"{}"}, {"tags": [["Energy", 1]]})
    assert postings_from(*postings_tables(postings)) == postings
    tables, rest = postings_tables(postings)
    assert postings_from(tables[:-1], rest) is None
    assert postings_from(tables, ("stamp", b"shape")) is None


class Bodies:
    """Words by body digest, as the body store keeps them."""

    stamp = "stamp"

    def __init__(self, words: dict[str, str]) -> None:
        self.by_digest = words

    def words(self, digests: Collection[str] | None = None) -> Iterator[tuple[str, str]]:
        wanted = self.by_digest.keys() if digests is None else digests
        return ((digest, self.by_digest[digest]) for digest in wanted if digest in self.by_digest)


VOCABULARY = st.lists(st.sampled_from(["aid", "truce", "jets", "kweiri", "geneva", "алеппо"]), unique=True)


@given(st.lists(VOCABULARY, min_size=4, max_size=12), st.data())
def test_postings_updated_for_edited_bodies_are_the_postings_made_afresh(
    bodies: list[list[str]], data: st.DataObject
) -> None:
    """Postings updated in place for edited bodies (each word kept, dropped or added) are those made afresh."""
    before = tuple(f"old{place}" for place in range(len(bodies)))
    edited = data.draw(st.sets(st.integers(0, len(bodies) - 1), max_size=len(bodies) // 4))
    after = tuple(f"new{place}" if place in edited else digest for place, digest in enumerate(before))
    new_words = {place: data.draw(VOCABULARY) for place in edited}
    words = {digest: " ".join(body) for digest, body in zip(before, bodies, strict=True)}
    words |= {f"new{place}": " ".join(body) for place, body in new_words.items()}
    store = Bodies(words)
    updated = _updated(_postings(before, store), after, store)
    assert updated is not None
    assert_same_postings(updated, _postings(after, store))


def assert_same_postings(updated: Postings, afresh: Postings) -> None:
    assert (updated.docs, updated.terms, updated.encoded, updated.files) == (
        afresh.docs, afresh.terms, afresh.encoded, afresh.files
    )  # fmt: skip
    assert {key: sorted(terms) for key, terms in updated.shards.items()} == afresh.shards


@given(st.lists(VOCABULARY, min_size=14, max_size=20), st.lists(VOCABULARY, max_size=2), st.data())
def test_postings_updated_for_briefings_added_or_removed_near_the_newest_are_those_made_afresh(
    bodies: list[list[str]], added: list[list[str]], data: st.DataObject
) -> None:
    """A briefing numbers from the oldest: adding or removing the newest ones, or one just
    before them (the others newer than it move up or down one), updates the postings in place."""
    before = tuple(f"old{n}" for n in range(len(bodies)))
    removed = data.draw(st.integers(0, 2))
    at = data.draw(st.integers(len(before) - removed - 1, len(before) - removed))  # where the added go
    kept = before[: len(before) - removed]
    after = kept[:at] + tuple(f"new{n}" for n in range(len(added))) + kept[at:]
    words = {digest: " ".join(body) for digest, body in zip(before, bodies, strict=True)}
    words |= {f"new{n}": " ".join(body) for n, body in enumerate(added)}
    store = Bodies(words)
    updated = _updated(_postings(before, store), after, store)
    assert updated is not None
    assert_same_postings(updated, _postings(after, store))


def test_a_briefing_added_as_the_newest_changes_only_the_postings_of_its_own_words(tmp_path: Path) -> None:
    """Numbered from the oldest, the others keep their numbers: the files of the words it lacks
    stay as they were, byte for byte, and the whole equals a clean build's."""
    root = make_archive(tmp_path / "a", FILES)
    before = search_files(build(root))
    newest = briefing("Kweiris again", "2015-10-01", body="Jets returned to Kweiris.")
    (root / "content" / "2015" / "newest.md").write_text(newest, encoding="utf-8")
    after = search_files(build(root))
    assert after == search_files(build(make_archive(tmp_path / "b", {**FILES, "2015/newest.md": newest})))

    def terms(files: dict[str, bytes]) -> dict[str, str]:
        return {t: e for name, data in files.items() if name.startswith("t/") for t, e in json.loads(data).items()}

    was, now = terms(before), terms(after)
    gained = {term for term in now if now[term] != was.get(term)}
    assert {"kweiri", "again", "returned", "syria"} <= gained and not was.keys() - now.keys()
    assert all(decode_postings(now[t]) == [*decode_postings(was.get(t, "v")), len(FILES)] for t in gained)
    changed = {name for name in after if before.get(name) != after[name]}
    assert {name for name in changed if name.startswith("t/")} == {f"t/{term_key(t)}.json" for t in gained}
    assert {name for name in changed if not name.startswith(("t/", "f/"))} == {"index.json", "d/0.json"}
    assert len(changed) < len(after) // 2, sorted(changed)


@given(st.integers(20, 180), st.integers(0, 1), st.integers(0, 2), st.sampled_from(["every", "third", "rare"]))
def test_postings_of_common_words_renumbered_mid_archive_are_spliced_and_those_made_afresh(
    at: int, removed: int, inserted: int, words_added: str
) -> None:
    """At 200 briefings, a word in every one (a bitmap) and one in every third (gaps of a byte) hold
    enough numbers for their encodings to be spliced after a briefing added or removed mid-archive
    (`search.SPLICED_FROM`): the postings must be those made afresh, the spliced encodings among them."""
    assume(inserted != removed)
    before = tuple(f"old{n}" for n in range(200))
    words = {digest: "every third" if n % 3 == 0 else "every" for n, digest in enumerate(before)}
    words |= {f"new{n}": {"every": "every", "third": "every third", "rare": "rare"}[words_added] for n in range(2)}
    after = before[:at] + tuple(f"new{n}" for n in range(inserted)) + before[at + removed :]
    spliced: list[str | None] = []

    def recorded(*args: Any) -> str | None:
        spliced.append(real(*args))
        return spliced[-1]

    real = search_module._spliced_encoding
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(search_module, "_spliced_encoding", recorded)
        updated = _updated(_postings(before, Bodies(words)), after, Bodies(words))
    assert updated is not None
    assert_same_postings(updated, _postings(after, Bodies(words)))
    assert any(spliced), "no encoding was spliced"


def search_files(site: Path) -> dict[str, bytes]:
    """Return the files of the site's search index by their path under search/."""
    return {f.relative_to(site / "search").as_posix(): f.read_bytes() for f in (site / "search").rglob("*.json")}


@given(st.lists(VOCABULARY, min_size=16, max_size=24), st.lists(VOCABULARY, max_size=2), st.data())
def test_postings_renumbered_for_briefings_added_or_removed_mid_archive_are_those_made_afresh(
    bodies: list[list[str]], added: list[list[str]], data: st.DataObject
) -> None:
    """A briefing added or removed in the middle of the archive moves the number of every newer
    one: the postings are renumbered, reading the words of the added bodies alone (some of them
    the same bodies as others: the numbers that differ are found by their bodies)."""
    before = tuple(f"old{n}" for n in range(len(bodies)))
    at, removed = data.draw(st.integers(1, len(before) - 3)), data.draw(st.integers(0, 1))
    inserted = tuple(data.draw(st.sampled_from([f"new{n}", before[at]])) for n in range(len(added)))
    after = before[:at] + inserted + before[at + removed :]
    assume(len(inserted) != removed)
    words = {digest: " ".join(body) for digest, body in zip(before, bodies, strict=True)}
    words |= {f"new{n}": " ".join(body) for n, body in enumerate(added)}
    read: list[set[str] | None] = []

    class Counted(Bodies):
        def words(self, digests: Collection[str] | None = None) -> Iterator[tuple[str, str]]:
            read.append(None if digests is None else set(digests))
            return super().words(digests)

    updated = _updated(_postings(before, Bodies(words)), after, Counted(words))
    assert updated is not None
    assert len(read) == 1 and read[0] is not None and read[0] <= set(inserted)
    assert_same_postings(updated, _postings(after, Bodies(words)))
