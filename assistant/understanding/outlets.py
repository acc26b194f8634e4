"""The outlets a question names ("as reported by TechCrunch and The Verge"), matched against the
publishers the store holds.

The store keeps each article's publisher as ingest found it: "The Verge", "Cnbc | World Business News
Leader", "The Independent - Sports", "BBC News - Technology". Readers name them shorter ("CNBC", "The
Independent", "BBC"), so each stored value gives a few aliases: itself, its name before a " | ", " - "
or ": " tagline, that name without "The" or ".com", and an acronym before " News". An alias names every
stored value it is made from: "The Independent" is its sports, travel and lifestyle desks together.

Some outlets are ordinary words ("Fortune", "The Age", "Wired", "Polygon"), so a mention counts only
where the question speaks of outlets: a name in quotes, one followed by "article", "report" or a
reporting verb ("said", "suggested", "describes" ...), or one preceded by "by", "from", "according
to" ... makes every outlet mention in the question count. A name that cannot be an ordinary word (an
inner capital, a dot or digit, two words besides "The": "TechCrunch", "CBSSports.com", "Sporting
News") counts anywhere, as long as it is written with a capital.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from assistant.text import MONTHS, WEEKDAYS

# A stored publisher's name, before its tagline: "The Roar | Sports Writers Blog", "FOX News - Health".
_TAGLINE = re.compile(r"\s+(?:\||-|–|—)\s+|:\s+")
# Words next to a name that say it is a publisher in this question.
_REPORT_AFTER = re.compile(
    r"^['’‘\"”]?(?:'s|’s)?\s*(?:news\s+)?(?:article|articles|report|reports|reported|reporting|story|stories|piece|"
    r"coverage|wrote|writes|said|says|published|claims|claimed|suggests|suggested|states|stated|noted|notes|"
    r"describes|described|implies|implied|recommends|recommended|highlights|highlighted|mentions|mentioned|"
    r"indicates|indicated|argues|argued|asserts|asserted|observes|observed|emphasi[sz]es|emphasi[sz]ed)\b",
    re.I,
)
# A name set in quotes ("'The Age'", "“Fortune”") is a title, not an ordinary word.
_QUOTE_OPEN, _QUOTE_CLOSE = ("'", "‘", '"', "“"), ("'", "’", '"', "”")
_REPORT_BEFORE = re.compile(r"\b(?:by|from|per|according to|in|on|at)\s+(?:both\s+)?(?:the\s+)?['‘\"“]?$", re.I)


@dataclass(frozen=True)
class Outlet:
    """A publisher as a question names it, and the stored ``source`` values that are it."""

    name: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Mention:
    outlet: Outlet
    start: int
    end: int


def _aliases(source: str) -> set[str]:
    """The names a reader may use for the stored publisher ``source``."""
    names = {source.strip()}
    base = _TAGLINE.split(source.strip(), maxsplit=1)[0].strip()
    names.add(base)
    for name in list(names):
        if name.lower().startswith("the ") and len(name) > 4:
            names.add(name[4:])
        if name.lower().endswith(".com"):
            names.add(name[:-4])
    words = base.split()
    if len(words) == 2 and words[1].lower() == "news" and words[0].isupper():
        names.add(words[0])  # "BBC News" -> "BBC"; not "Sporting News" -> "Sporting"
    return {n for n in names if len(n) >= 3}


def _distinctive(alias: str) -> bool:
    """Whether the alias cannot be an ordinary capitalised word or phrase."""
    words = [w for w in alias.split() if w.lower() != "the"]
    if len(words) >= 2:
        return True
    word = words[0] if words else alias
    return any(c.isdigit() or c == "." for c in word) or any(c.isupper() for c in word[1:])


class OutletDirectory:
    """Finds the stored publishers a question names (built once per store version)."""

    def __init__(self, sources: Iterable[str]):
        by_alias: dict[str, set[str]] = {}
        for source in {s for s in sources if s and s.strip()}:
            for alias in _aliases(source):
                by_alias.setdefault(alias.lower(), set()).add(source)
        # The stored spelling of each alias, for display: the shortest stored value it comes from
        # names the group ("The Independent" for its three desks).
        self.outlets: dict[str, Outlet] = {}
        self.distinctive: dict[str, bool] = {}
        for alias, stored in by_alias.items():
            display = self._display(alias, stored)
            self.outlets[alias] = Outlet(display, tuple(sorted(stored)))
            self.distinctive[alias] = _distinctive(display)
        longest_first = sorted(self.outlets, key=len, reverse=True)
        self.pattern = (
            re.compile(r"(?<![\w])(" + "|".join(re.escape(a) for a in longest_first) + r")(?![\w])", re.I)
            if longest_first
            else None
        )

    @staticmethod
    def _display(alias: str, stored: set[str]) -> str:
        for source in sorted(stored, key=len):
            at = source.lower().find(alias)
            if at >= 0:
                name = source[at : at + len(alias)]
                return name if any(c.isupper() for c in name) else name.title()
        return alias.title()

    def __len__(self) -> int:
        return len(self.outlets)

    def mentions(self, question: str) -> list[Mention]:
        """The outlets ``question`` names, in order (an outlet named twice is mentioned twice: "the
        Sporting News report of May 2 and the Sporting News report of June 6")."""
        if self.pattern is None:
            return []
        found: list[tuple[Mention, bool, bool]] = []
        for match in self.pattern.finditer(question):
            text = match.group(1)
            named = text[4:] if text.lower().startswith("the ") else text
            if not named[:1].isupper() and not named[:1].isdigit():
                continue  # "the verge of", "a fortune": not a publisher
            alias = text.lower()
            quoted = question[match.start() - 1 : match.start()] in _QUOTE_OPEN and question[match.end() : match.end() + 1] in _QUOTE_CLOSE
            context = (quoted or bool(_REPORT_AFTER.search(question[match.end() :]))
                       or bool(_REPORT_BEFORE.search(question[: match.start()])))
            found.append((Mention(self.outlets[alias], match.start(), match.end()), self.distinctive[alias], context))
        speaks_of_outlets = any(context for _, _, context in found)
        return [mention for mention, distinctive, _ in found if distinctive or speaks_of_outlets]


# A publisher credited in a question: "the Bloomberg article", "a 'Variety' piece", "reported by Reuters",
# "according to a report by The Wall Street Journal".
_NAME = r"['‘\"“]?(?P<name>(?:The\s+)?[A-Z][\w.&’'-]*(?:\s+(?:of\s+|&\s+)?[A-Z][\w.&’'-]*){0,3})['’\"”]?"
_CREDITED = re.compile(
    rf"(?:\b(?:the|a|an|another|both)\s+{_NAME}\s+(?:article|report|piece|coverage|story)s?\b)"
    rf"|(?:\b(?:reported|published|covered|written)\s+(?:on\s+)?by\s+(?:both\s+)?{_NAME.replace('name', 'name2')})"
    rf"|(?:\b(?:article|report|piece)s?\s+(?:from|by|in)\s+{_NAME.replace('name', 'name3')})"
)


def unknown_outlets(question: str, directory: OutletDirectory) -> list[str]:
    """Publishers the question credits that the store holds nothing from ("as reported by Bloomberg"
    over a store without Bloomberg): what it asks of them no stored article can say."""
    known = [(m.start, m.end) for m in directory.mentions(question)]
    names: list[str] = []
    for match in _CREDITED.finditer(question):
        group = next(g for g in ("name", "name2", "name3") if match.group(g))
        start, end = match.span(group)
        name = match.group(group)
        if any(a < end and start < b for a, b in known) or directory.mentions(f"the '{name}' article"):
            continue
        if name.split()[0].lower() in _NOT_NAMES:
            continue
        names.append(name)
    return list(dict.fromkeys(names))


# Capitalised words that open a run but name no publisher ("the First article", "the Same report").
_NOT_NAMES = frozenset("first second third same other latest earlier later recent new previous subsequent one two".split()) | MONTHS | WEEKDAYS
