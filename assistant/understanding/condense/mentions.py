"""Reading a turn: the *mentions* it makes, that is the names it uses, each with the kind of thing it
names (a person, of which sex when the first name tells; a place; a group; a thing; a name of no known
kind), and the noun phrases without a name that a pronoun may stand for ("the fake robocalls").

``mentions_in`` finds the names: runs of capitalised words (``name_runs``), each made a mention with its
kind (``name_kind``), plus the coordination and the phrase it heads. ``common_phrases_in`` finds the noun
phrases. Both are cached, as every turn is read again for each follow-up of a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from assistant.text import STOPWORDS, canonical_names
from assistant.understanding.answer_types import first_names, gazetteer
from assistant.understanding.condense.vocabulary import (
    CALENDAR,
    COMMON_VERBS,
    CONNECTORS,
    DETERMINERS,
    DO,
    NOT_NAMES,
    NOT_TOPIC,
    NUMBER_WORDS,
    PARTICIPLES,
    QUESTION_WORDS,
    THING_HEADS,
    TITLES,
    VENUE_HEADS,
)
from assistant.understanding.condense.words import (
    Tokens,
    acronym,
    capitalised,
    continues_name,
    opens_sentence,
    tokenize,
)


@dataclass
class Mention:
    """A name or noun phrase of a text, and what kind of thing it names."""

    text: str
    kind: str  # "person", "place", "group", "thing" or "name" (a name of no known kind)
    gender: str | None = None  # "m" or "f", for a person whose first name tells
    start: int = 0  # index of its first word in the text
    phrase: bool = False  # a name with the words after it ("the Iowa caucuses"): a referent, not context
    common: bool = False  # a noun phrase without a name ("the fake robocalls"): a referent of last resort


@lru_cache(maxsize=1)
def genders() -> dict[str, str]:
    """Census first name -> "m" or "f", for names given (at least three times more often) to one sex."""
    import names

    freq: dict[str, dict[str, float]] = {}
    for key, sex in (("first:male", "m"), ("first:female", "f")):
        with open(names.FILES[key], encoding="ascii") as lines:
            for line in lines:
                parts = line.split(None, 2)
                if len(parts) >= 2:
                    freq.setdefault(parts[0].lower(), {})[sex] = float(parts[1])
    out = {}
    for name, by_sex in freq.items():
        m, f = by_sex.get("m", 0.0), by_sex.get("f", 0.0)
        if m >= 3 * f:
            out[name] = "m"
        elif f >= 3 * m:
            out[name] = "f"
    return out


@lru_cache(maxsize=4096)
def is_place(name: str) -> bool:
    """Whether a name is a country, a US state or a city of the gazetteer (a country by any alias:
    "U.S.", "United Kingdom")."""
    lowered = canonical_names(name).strip().lower()
    if lowered in {"unitedstates", "unitedkingdom", "unitedarabemirates"}:
        return True
    return any(lowered in gazetteer(g) for g in ("countries", "us_states", "cities"))


def name_kind(words: list[str]) -> tuple[str, str | None]:
    """What a name is: ("person", gender) for "Donald Trump", "King Charles", "Gov. John Carney";
    "place" for "Iowa", "New Hampshire" or "NRG Stadium"; "group" for a plural name ("Golden
    Globes"); "thing" for a company, an event, a law; "name" when nothing tells."""
    name = " ".join(words)
    lowered = [w.lower().rstrip(".") for w in words]
    last = lowered[-1]
    plural = last.endswith("s") and not last.endswith(("ss", "us", "is"))
    if is_place(name):
        return "place", None
    if len(words) > 1 and last in VENUE_HEADS:
        return "place", None
    if last in THING_HEADS or any(c.isdigit() for c in name):
        return ("group" if plural else "thing"), None
    titled = [i for i, w in enumerate(lowered[:-1]) if w in TITLES]
    if titled:
        return "person", genders().get(lowered[titled[-1] + 1])
    if 2 <= len(words) <= 4 and lowered[0] in first_names() and all(w[:1].isupper() for w in words):
        return "person", genders().get(lowered[0])
    if len(words) == 1 and lowered[0] in first_names() and not words[0].isupper():
        return "person", genders().get(lowered[0])
    if len(words) > 1 and plural:
        return "group", None
    if len(words) == 1 and (words[0].isupper() or any(c.isupper() for c in words[0][1:])):
        return "thing", None  # an acronym or a brand: "IRS", "SpaceX"
    return "name", None


def name_runs(tokens: Tokens) -> list[tuple[int, int]]:
    """The (first, last) indexes of each name in ``tokens``: a run of capitalised words (and numbers, and
    connectors between capitalised words: "Bank of England"), cut at punctuation, without its opening
    words that are no name's ("Former", "The", question words) nor its trailing connectors and dates. A
    single word opening a sentence is a name only when it stands alone as one (``opening_word_is_name``)."""
    runs: list[tuple[int, int]] = []  # (first index, last index)
    i = 0
    while i < len(tokens):
        if not capitalised(tokens[i][0]):
            i += 1
            continue
        j = i
        while not tokens[j][2] and j + 1 < len(tokens):
            nxt = tokens[j + 1][0]
            if tokens[j][1]:  # "Stafford's Rams": the possessive stays inside a name only before another
                if capitalised(nxt) or nxt[:1].isdigit() and any(c.isalpha() for c in nxt):
                    j += 1
                    continue
                break
            if continues_name(nxt):
                j += 1
                continue
            if (nxt.lower() in CONNECTORS and j + 2 < len(tokens) and not tokens[j + 1][2]
                    and capitalised(tokens[j + 2][0])):
                j += 2
                continue
            break
        first = i
        while first <= j and not tokens[first][1] and not acronym(tokens[first][0]) and (
            tokens[first][0].lower() in NOT_NAMES | CONNECTORS or not capitalised(tokens[first][0])
        ):
            first += 1
        last = j
        while last >= first and tokens[last][0].lower() in CONNECTORS | CALENDAR:
            last -= 1
        i = j + 1
        if first > last:
            continue
        if first == last and opens_sentence(tokens, first) and not opening_word_is_name(tokens[first][0]):
            continue
        runs.append((first, last))
    return runs


@lru_cache(maxsize=2048)
def mentions_in(text: str) -> tuple[Mention, ...]:
    """The names ``text`` uses, in order: runs of capitalised words (and numbers after them: "House
    Bill 235"), cut at punctuation, without the words that open them ("Former", "The", question
    words). A name in the possessive is a mention without the "'s" ("King Charles's health" -> "King
    Charles"); a possessive inside a name keeps it whole ("Matthew Stafford's Rams") and its owner
    counts too. A coordination of two names ("France and the U.K.") is one group mention, before its
    parts; a name after a determiner with common nouns after it ("the Iowa caucuses", "a Calvin Klein
    advert") is also a phrase, before the name. A single capitalised word opening a sentence counts
    only when it is a place, a first name, an acronym or has capitals inside ("Smyrna.", "SpaceX")."""
    tokens = tokenize(text)
    runs = name_runs(tokens)
    mentions: list[Mention] = []
    seen: set[str] = set()

    def add(mention: Mention) -> None:
        if mention.text.lower() not in seen:
            seen.add(mention.text.lower())
            mentions.append(mention)

    for n, (first, last) in enumerate(runs):
        words = [tokens[k][0] for k in range(first, last + 1)]
        surface = " ".join(tokens[k][0] + (tokens[k][1] if k < last else "") for k in range(first, last + 1))
        # "France and the U.K.": two names joined by "and" (the second perhaps after "the").
        if n + 1 < len(runs) and not tokens[last][2] and not tokens[last][1]:
            nfirst, nlast = runs[n + 1]
            between = [tokens[k][0].lower() for k in range(last + 1, nfirst)]
            if between in (["and"], ["and", "the"]):
                other = " ".join(tokens[k][0] for k in range(nfirst, nlast + 1))
                add(Mention(f"{surface} and {'the ' if len(between) == 2 else ''}{other}", "group", start=first))
        phrase = name_phrase(tokens, first, last)
        if phrase:
            nouns = phrase.split()
            add(Mention(f"{surface}{tokens[last][1]} {phrase}" if tokens[last][1] else f"{surface} {phrase}",
                         "group" if nouns[-1].endswith("s") and not nouns[-1].endswith("ss") else "thing",
                         start=first, phrase=True))
        if any(tokens[k][1] for k in range(first, last)):
            kind, gender = name_kind(after_last_possessive(tokens, first, last))
            add(Mention(surface, kind, gender, first))
            owner: list[str] = []
            for k in range(first, last):
                owner.append(tokens[k][0])
                if tokens[k][1]:
                    kind, gender = name_kind(owner)
                    add(Mention(" ".join(owner), kind, gender, first))
                    owner = []
            continue
        kind, gender = name_kind(words)
        add(Mention(surface, kind, gender, first))
    return tuple(mentions)


def after_last_possessive(tokens: Tokens, first: int, last: int) -> list[str]:
    """The words of a name after its last inner possessive: "Matthew Stafford's Rams" -> ["Rams"]."""
    k = last
    while k > first and not tokens[k - 1][1]:
        k -= 1
    return [tokens[m][0] for m in range(k, last + 1)]


def name_phrase(tokens: Tokens, first: int, last: int) -> str | None:
    """The common nouns after a name that make one phrase with it: "the Iowa caucuses", "a Calvin Klein
    advert", "Nevada's Republican primary" (after a determiner or a possessive; not a verb after the
    subject of "does"/"did": "When does the World Cup start?")."""
    before = first - 1
    owned = tokens[last][1] or any(tokens[k][1] for k in range(first, last))
    if not owned and (before < 0 or tokens[before][0].lower() not in DETERMINERS):
        return None
    if tokens[last][2]:
        return None
    # The subject of "did"/"does" ("What did France and the U.K. promise?"): the next word is its verb.
    k = first - 1
    while k >= 0 and not tokens[k][2] and (
        capitalised(tokens[k][0]) or tokens[k][0].lower() in DETERMINERS | {"and", "of"}
    ):
        k -= 1
    subject = k >= 0 and tokens[k][0].lower() in DO and not tokens[k][2]
    nouns = noun_run(tokens, last + 1, limit=6 if subject else 4)
    if subject:
        # "When does South Korea's new food ban take effect?": the phrase ends before a common verb;
        # with none to end it, its last word may be the verb ("What did the U.K. promise?").
        verb = next((i for i, w in enumerate(nouns) if w.lower() in COMMON_VERBS), None)
        nouns = nouns[:verb] if verb is not None else []
    return " ".join(nouns) if nouns else None


def noun_run(tokens: Tokens, k: int, limit: int = 4) -> list[str]:
    """The lower-case content words from ``tokens[k]`` on, up to a function word, a verb form or
    punctuation: a noun phrase's modifiers and head. Empty when more than ``limit`` follow."""
    nouns: list[str] = []
    while k < len(tokens):
        word, mark, ends = tokens[k]
        lowered = word.lower()
        if (not word[:1].islower() or not word.isalpha() and "-" not in word or lowered in STOPWORDS
                or lowered in NOT_TOPIC or lowered in QUESTION_WORDS or lowered in PARTICIPLES
                or lowered.endswith(("ing", "ed"))):
            break
        nouns.append(word)
        if len(nouns) > limit:
            return []  # too long to be one noun phrase
        if mark or ends:
            break
        k += 1
    return nouns


@lru_cache(maxsize=2048)
def common_phrases_in(text: str) -> tuple[Mention, ...]:
    """Noun phrases without a name that a pronoun may stand for: "the fake robocalls" (for "they"),
    "the new same-sex marriage law" (for "it"), "two concertgoers"."""
    tokens = tokenize(text)
    out: list[Mention] = []
    for k, (word, _mark, punct) in enumerate(tokens):
        if punct or (word.lower() not in DETERMINERS - {"that", "this", "its", "his", "her", "their"}
                     and word.lower() not in NUMBER_WORDS):
            continue
        nouns = noun_run(tokens, k + 1)
        after = k + 1 + len(nouns)
        if not nouns or after < len(tokens) and not tokens[after - 1][2] and (
            capitalised(tokens[after][0]) or tokens[after][0].lower() not in STOPWORDS
        ):
            continue  # "the Iowa caucuses" is a name's phrase; "the new season" is cut short
        head = nouns[-1].lower()
        plural = head.endswith("s") and not head.endswith(("ss", "us", "is"))
        determiner = word.lower() if word.lower() in NUMBER_WORDS else "the"
        kind = "group" if plural else "thing"
        out.append(Mention(f"{determiner} {' '.join(nouns)}", kind, start=k, phrase=True, common=True))
    return tuple(out)


def opening_word_is_name(word: str) -> bool:
    """Whether a capitalised word opening a sentence is still a name."""
    if len(word) >= 2 and word.isupper():
        return True
    if any(c.isupper() for c in word[1:]) or any(c.isdigit() for c in word):
        return True
    lowered = word.lower()
    return is_place(word) or (lowered in first_names() and lowered not in STOPWORDS)
