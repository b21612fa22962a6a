"""Country names: the ones the checker knows, and telling a misspelling from a new name.

Owns the built-in list of country names (English short names, with the other spellings
newsrooms use) and the rule for "did you mean": a name that is neither known nor listed in
site.yaml's `known_countries`, and is close to a known name or to a more used one, is
taken for a misspelling. Known names are never compared with each other, so Gambia and
Zambia, or Niger and Nigeria, both stand. May not do I/O.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from briefings.urls import fold

NEAR_MISS = 0.8  # difflib ratio of folded names: "Syira" is 0.8 from "Syria", "Somaliland" 0.82 from "Somalia"

KNOWN_COUNTRIES = (
    "Afghanistan", "Albania", "Algeria", "Andorra", "Angola", "Antigua and Barbuda", "Argentina",
    "Armenia", "Australia", "Austria", "Azerbaijan", "Bahamas", "Bahrain", "Bangladesh", "Barbados",
    "Belarus", "Belgium", "Belize", "Benin", "Bhutan", "Bolivia", "Bosnia and Herzegovina", "Botswana",
    "Brazil", "Brunei", "Bulgaria", "Burkina Faso", "Burma", "Burundi", "Cabo Verde", "Cambodia",
    "Cameroon", "Canada", "Cape Verde", "Central African Republic", "Chad", "Chile", "China",
    "Colombia", "Comoros", "Congo", "Congo-Brazzaville", "Congo-Kinshasa", "Costa Rica",
    "Côte d'Ivoire", "Croatia", "Cuba", "Cyprus", "Czech Republic", "Czechia",
    "Democratic Republic of the Congo", "Denmark", "Djibouti", "Dominica", "Dominican Republic",
    "DR Congo", "East Timor", "Ecuador", "Egypt", "El Salvador", "Equatorial Guinea", "Eritrea",
    "Estonia", "Eswatini", "Ethiopia", "Fiji", "Finland", "France", "Gabon", "Gambia", "Georgia",
    "Germany", "Ghana", "Greece", "Greenland", "Grenada", "Guatemala", "Guinea", "Guinea-Bissau",
    "Guyana", "Haiti", "Holy See", "Honduras", "Hong Kong", "Hungary", "Iceland", "India",
    "Indonesia", "Iran", "Iraq", "Ireland", "Israel", "Italy", "Ivory Coast", "Jamaica", "Japan",
    "Jordan", "Kazakhstan", "Kenya", "Kiribati", "Kosovo", "Kuwait", "Kyrgyzstan", "Laos", "Latvia",
    "Lebanon", "Lesotho", "Liberia", "Libya", "Liechtenstein", "Lithuania", "Luxembourg", "Macau",
    "Macedonia", "Madagascar", "Malawi", "Malaysia", "Maldives", "Mali", "Malta",
    "Marshall Islands", "Mauritania", "Mauritius", "Mexico", "Micronesia", "Moldova", "Monaco",
    "Mongolia", "Montenegro", "Morocco", "Mozambique", "Myanmar", "Namibia", "Nauru", "Nepal",
    "Netherlands", "New Zealand", "Nicaragua", "Niger", "Nigeria", "North Korea", "North Macedonia",
    "Norway", "Oman", "Pakistan", "Palau", "Palestine", "Panama", "Papua New Guinea", "Paraguay",
    "Peru", "Philippines", "Poland", "Portugal", "Puerto Rico", "Qatar", "Republic of the Congo",
    "Romania", "Russia", "Rwanda", "Saint Kitts and Nevis", "Saint Lucia",
    "Saint Vincent and the Grenadines", "Samoa", "San Marino", "São Tomé and Príncipe",
    "Saudi Arabia", "Senegal", "Serbia", "Seychelles", "Sierra Leone", "Singapore", "Slovakia",
    "Slovenia", "Solomon Islands", "Somalia", "Somaliland", "South Africa", "South Korea",
    "South Sudan", "Spain", "Sri Lanka", "Sudan", "Suriname", "Swaziland", "Sweden", "Switzerland",
    "Syria", "Taiwan", "Tajikistan", "Tanzania", "Thailand", "Timor-Leste", "Togo", "Tonga",
    "Trinidad and Tobago", "Tunisia", "Turkey", "Türkiye", "Turkmenistan", "Tuvalu", "Uganda",
    "Ukraine", "United Arab Emirates", "United Kingdom", "United States", "Uruguay", "Uzbekistan",
    "Vanuatu", "Vatican City", "Venezuela", "Vietnam", "Western Sahara", "Yemen", "Zambia",
    "Zimbabwe",
)  # fmt: skip


_DIGITS_RE = re.compile(r"\d+")


def near_misses(
    used: Counter[str], extra: Iterable[str] = (), builtin: Iterable[str] = KNOWN_COUNTRIES
) -> dict[str, str]:
    """Return, for each name in `used` (name -> briefings using it) that looks misspelt, the name meant.

    A name is taken as meant when it is known (built in or in `extra`), or when it is used
    by more briefings than the misspelling; names that fold alike are one name.
    """
    return near_misses_since(None, used, extra, builtin)[0]


@dataclass(frozen=True)
class Compared:
    """What `near_misses_since` compared, for the next call with the same known names: each
    folded name's count, and for each name not known, the folded name it was found closest to
    (None: none was close enough)."""

    uses: dict[str, int]
    closest: dict[str, str | None]


def near_misses_since(
    previous: Compared | None, used: Counter[str], extra: Iterable[str] = (), builtin: Iterable[str] = KNOWN_COUNTRIES
) -> tuple[dict[str, str], Compared]:
    """Return `near_misses`, and what was compared for the next call. Given what the last call
    with the same known names compared (`previous`), a name is compared again only if its count
    changed or a name passed it, into or out of the names more used than it: its candidates are
    the same otherwise, so is the closest of them. Every name is compared with every more used
    one, seconds at a thousand names; an added briefing changes a few counts by one."""
    known = {fold(name): name for name in (*builtin, *extra)}
    uses: Counter[str] = Counter()
    spelled: dict[str, str] = {}
    for name, count in used.items():
        uses[fold(name)] += count
        spelled.setdefault(fold(name), name)
    passed = _counts_passed(previous.uses, uses) if previous is not None else None
    if previous is not None and passed is not None:
        counted, kept = previous.uses, previous.closest
    else:  # nothing to go by: every name is compared
        counted, kept, passed = {}, {}, set()
    closest: dict[str, str | None] = {}
    for name in used:
        folded = fold(name)
        if folded in known:
            continue
        count = uses[folded]
        if name in kept and counted.get(folded) == count and count not in passed:
            closest[name] = kept[name]
        else:
            closest[name] = _closest(folded, (*known, *(u for u in uses if u != folded and uses[u] > count)))
    found = {name: known.get(match) or spelled[match] for name, match in closest.items() if match is not None}
    return found, Compared(dict(uses), closest)


def _closest(folded: str, candidates: Iterable[str]) -> str | None:
    """Return the candidate closest to a folded name, if close enough to be what was meant."""
    numbers = _DIGITS_RE.findall(folded)  # "COP 26" and "COP 27", "G7" and "G8" are not typos of each other
    alike = [other for other in candidates if _DIGITS_RE.findall(other) == numbers]
    match = difflib.get_close_matches(folded, alike, n=1, cutoff=NEAR_MISS)
    return match[0] if match else None


PASSED_AT_MOST = 1000  # counts passed; beyond, every name is compared again (sooner than looked up)


def _counts_passed(was: dict[str, int], now: Counter[str]) -> set[int] | None:
    """Return the counts some name passed from `was` to `now` (went from more than it to not, or
    back): a name used that often has other names more used than it. None when there are many."""
    passed: set[int] = set()
    for name in was.keys() | now.keys():
        before, after = was.get(name, 0), now.get(name, 0)
        if before != after:
            passed.update(range(min(before, after), max(before, after)))
            if len(passed) > PASSED_AT_MOST:
                return None
    return passed
