// Search for /search/: reads the static index the build writes under search/ (see
// briefings/search.py for its format) and shows results newest first, with excerpts taken
// from the briefing pages themselves. Words are compared as the build folds them: case,
// accents and punctuation do not count. Only this page loads this script.
"use strict";

(() => {
  const form = document.getElementById("search");
  if (!form || !window.fetch || !window.TextDecoder) return;
  const indexRoot = form.dataset.index; // the site's /search/ folder, under its base path
  const siteRoot = form.dataset.base;
  const input = document.getElementById("q");
  const status = document.getElementById("search-status");
  const list = document.getElementById("results");
  const more = document.getElementById("more");
  const selects = Array.from(form.querySelectorAll("select"));
  const PAGE = 10;
  const files = new Map();
  let meta = null;
  let shown = [];
  let run = 0;

  const load = (path) => {
    if (!files.has(path)) {
      files.set(path, fetch(indexRoot + path).then((response) => {
        if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
        return response.json();
      }));
    }
    return files.get(path);
  };

  // As briefings/search.py: casefold (near enough), NFKD, no marks; words are letters and digits.
  const fold = (text) => text.toLowerCase().replace(/ß/g, "ss").replace(/ς/g, "σ")
    .normalize("NFKD").replace(/\p{M}/gu, "");
  const words = (text) => fold(text).match(/[\p{L}\p{N}]+/gu) || [];
  // As briefings/words.py's `stem` (Harman's "S" stemmer), for a site in English: singular and plural meet.
  const stem = (word) => {
    if ([...word].length < 4 || !word.endsWith("s")) return word;
    if (word.endsWith("ies") && !/[ae]ies$/.test(word)) return `${word.slice(0, -3)}y`;
    if (word.endsWith("es") && !/[aeo]es$/.test(word)) return word.slice(0, -1);
    return /[us]s$/.test(word) ? word : word.slice(0, -1);
  };
  const queryTerms = (text) => [...new Set(words(text).map((word) => (meta.stem === "en" ? stem(word) : word)))];
  // The first two UTF-16 code units in hex, as briefings/search.py names a term's shard.
  const shardOf = (term) => [0, 1].filter((i) => i < term.length)
    .map((i) => term.charCodeAt(i).toString(16).padStart(4, "0")).join("");

  const bits = () => new Uint8Array((meta.count + 7) >> 3);
  const decode = (encoded) => {
    const raw = atob(encoded.slice(1));
    const set = bits();
    if (encoded[0] === "b") {
      for (let i = 0; i < raw.length; i++) set[i] = raw.charCodeAt(i);
      return set;
    }
    let value = 0, shift = 0, number = -1;
    for (let i = 0; i < raw.length; i++) {
      const byte = raw.charCodeAt(i);
      value |= (byte & 0x7f) << shift;
      shift += 7;
      if (byte < 0x80) {
        number += value;
        set[number >> 3] |= 1 << (number & 7);
        value = 0;
        shift = 0;
      }
    }
    return set;
  };
  const and = (a, b) => { for (let i = 0; i < a.length; i++) a[i] &= b[i]; return a; };
  const or = (a, b) => { for (let i = 0; i < a.length; i++) a[i] |= b[i]; return a; };

  // The numbers of the briefings with every word (the last one also as the start of a word) and
  // every filter, newest first: a briefing's number is its place counted from the oldest.
  async function matches(terms, prefix, filters) {
    let found = null;
    for (const [index, term] of terms.entries()) {
      const shard = meta.shards.includes(shardOf(term)) ? await load(`t/${shardOf(term)}.json`) : {};
      const set = bits();
      for (const [name, postings] of Object.entries(shard)) {
        if (name === term || (prefix && index === terms.length - 1 && name.startsWith(term))) or(set, decode(postings));
      }
      found = found ? and(found, set) : set;
    }
    for (const [facet, value] of filters) {
      const postings = (await load(`f/${facet}.json`))[value];
      const set = postings ? decode(postings) : bits();
      found = found ? and(found, set) : set;
    }
    const numbers = [];
    if (found) for (let n = meta.count - 1; n >= 0; n--) if (found[n >> 3] >> (n & 7) & 1) numbers.push(n);
    return numbers;
  }

  // Where the query's words (their stems) start in a text: [start, end] of each, in code points.
  function found(text, terms) {
    const folded = [], origin = [];
    Array.from(text).forEach((char, at) => { for (const c of fold(char)) { folded.push(c); origin.push(at); } });
    const flat = folded.join("");
    const spans = [];
    for (const term of terms) {
      // The whole word the term (a stem, or the start of the last word typed) begins.
      const pattern = new RegExp(`(?<![\\p{L}\\p{N}])${term.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[\\p{L}\\p{N}]*`, "gu");
      for (const m of flat.matchAll(pattern)) {
        const start = Array.from(flat.slice(0, m.index)).length, length = Array.from(m[0]).length;
        spans.push([origin[start], origin[start + length - 1] + 1]);
      }
    }
    return spans.sort((a, b) => a[0] - b[0]);
  }

  // Text with the spans found marked, appended to an element.
  function marked(element, chars, spans, from, to) {
    let at = from;
    for (const [start, end] of spans) {
      if (start < at || end > to) continue;
      element.append(chars.slice(at, start).join(""));
      const mark = document.createElement("mark");
      mark.textContent = chars.slice(start, end).join("");
      element.append(mark);
      at = end;
    }
    element.append(chars.slice(at, to).join(""));
  }

  // An excerpt of the page's text around the first word found, the words marked.
  function excerpt(text, terms) {
    const chars = Array.from(text), spans = found(text, terms);
    const first = spans.length ? spans[0][0] : 0;
    // About 80 characters before the first word found and 200 after, cut at spaces.
    let from = Math.max(0, first - 80), to = Math.min(chars.length, first + 200);
    while (from > 0 && from < first && chars[from - 1] !== " ") from++;
    while (to < chars.length && to > first && chars[to] !== " ") to--;
    const p = document.createElement("p");
    p.className = "excerpt";
    if (from > 0) p.append("… ");
    marked(p, chars, spans, from, to);
    if (to < chars.length) p.append(" …");
    return p;
  }

  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December"];

  // One result: its title (the words found marked), region, source, language and excerpt come from its own page.
  async function result(number, terms) {
    const where = (await load(`d/${Math.floor(number / meta.chunk)}.json`))[number % meta.chunk];
    const [year, month, day] = where.slice(0, 10).split("-");
    const path = `${year}/${month}/${where.slice(11)}/`;
    const item = document.createElement("li");
    const heading = document.createElement("h2");
    const link = document.createElement("a");
    link.href = siteRoot + path;
    const when = document.createElement("p");
    when.className = "meta";
    when.textContent = `${Number(day)} ${MONTHS[Number(month) - 1]} ${year}`;
    heading.append(link);
    item.append(heading, when);
    try {
      const response = await fetch(link.href);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const title = page.querySelector("h1")?.textContent || path;
      marked(link, Array.from(title), found(title, terms), 0, Array.from(title).length);
      if (page.documentElement.lang !== document.documentElement.lang) link.lang = page.documentElement.lang;
      // The page's region (the last step of its breadcrumb trail) and source (linked by its dateline).
      const region = page.querySelector(".crumbs li:last-child")?.textContent.trim();
      const source = page.querySelector(".meta a[href*='/sources/']")?.textContent.trim();
      when.textContent = [when.textContent, region, source].filter(Boolean).join(" · ");
      const text = [".summary", ".body"].map((s) => page.querySelector(s)?.textContent || "").join(" ");
      item.append(excerpt(text.replace(/\s+/g, " ").trim(), terms));
    } catch {
      link.textContent = path;
    }
    return item;
  }

  async function showMore(terms, mine = run) {
    const batch = shown.splice(0, PAGE);
    const items = await Promise.all(batch.map((number) => result(number, terms)));
    if (mine !== run) return; // a newer search has started
    list.append(...items);
    more.hidden = shown.length === 0;
  }

  async function search() {
    const mine = ++run;
    const query = input.value;
    const wanted = queryTerms(query);
    const filters = selects.filter((s) => s.value).map((s) => [s.name, s.value]);
    const params = new URLSearchParams();
    if (query.trim()) params.set("q", query.trim());
    for (const [name, value] of filters) params.set(name, value);
    history.replaceState(null, "", params.toString() ? `?${params}` : location.pathname);
    list.replaceChildren();
    more.hidden = true;
    if (!wanted.length && !filters.length) {
      status.textContent = "";
      return;
    }
    status.textContent = "Searching…";
    try {
      const numbers = await matches(wanted, !/\s$/.test(query), filters);
      if (mine !== run) return;
      shown = numbers.slice(); // showMore takes from the front of `shown`
      await showMore(wanted, mine); // the status is announced once the first results are there
      if (mine !== run) return;
      const said = wanted.length ? ` for “${query.trim()}”` : "";
      const narrowed = filters.length ? ` (${filters.map(([, v]) => v).join(", ")})` : "";
      status.textContent = numbers.length === 1 ? `1 briefing${said}${narrowed}.`
        : `${numbers.length.toLocaleString("en")} briefings${said}${narrowed}, newest first.`;
      if (!numbers.length) status.textContent = `No briefings${said}${narrowed}. Try fewer or other words.`;
    } catch (error) {
      if (mine === run) status.textContent = `The search index could not be read (${error.message}). Try again later.`;
    }
  }

  async function start() {
    meta = await load("index.json");
    for (const select of selects) {
      for (const [value, count] of meta.facets[select.name] || []) {
        select.append(new Option(`${value} (${count.toLocaleString("en")})`, value));
      }
    }
    const params = new URLSearchParams(location.search);
    input.value = params.get("q") || "";
    for (const select of selects) select.value = params.get(select.name) || "";
    document.getElementById("no-script").hidden = true;
    // The filters fold away on a narrow screen, so that results come first; open when one is set.
    document.getElementById("narrow").open = matchMedia("(min-width: 40rem)").matches || selects.some((s) => s.value);
    form.hidden = false;
    let timer = 0;
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 200); });
    selects.forEach((select) => select.addEventListener("change", search));
    form.addEventListener("submit", (event) => { event.preventDefault(); search(); });
    more.addEventListener("click", () => showMore(queryTerms(input.value)));
    if (input.value || selects.some((s) => s.value)) search();
  }

  start().catch((error) => {
    document.getElementById("no-script").querySelector("p").prepend(
      `The search index could not be read (${error.message}). `,
    );
  });
})();
