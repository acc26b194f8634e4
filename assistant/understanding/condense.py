"""Follow-up rewriting: turn the latest question into one that stands alone, given the history.

Without an LLM the rewrite reads the conversation as *mentions* (the names each user turn used, with
the kind of thing each is: a person, a place, a group, something else, and the noun phrases a pronoun
may stand for) and the words of the engine's answers, and makes the follow-up carry them:

* A pronoun is replaced by the most recent mention that agrees with it: "he"/"she" by a person (of
  that sex when the census first-name lists tell: "Donald Trump's first trial"), "it"/"its" by a thing
  (a company, an event, a law: "Apple's products", "Nevada's Republican primary"), "they"/"their" by a
  group, a coordination ("France and the U.K.") or a plural noun phrase ("the fake robocalls"),
  "there" by a place ("in Iowa"). The answer to an earlier "which ...?" or "who ...?" comes first: it
  names what the user now asks about ("Which line ...?" "The Northshore Line." -> "its timetable").
  A pronoun with no agreeing mention is left as it is, and so is one whose name is asked ("What's his
  name?"), one that stands for the question's own subject ("a landing of its own", "Which carrier said
  it ...?", "Whose network was it that ...?") and a "there" that points nowhere ("Is there ...?").
* Possessives are written once: "King Charles's health" is a mention of "King Charles".
* An elliptical follow-up ("And the US?", "What about Canada?") is the earlier question with its
  subject replaced; an elided question ("And which state gets the final?", "Who came second?") keeps
  its own words and gains the earlier topic in brackets.
* The context the rewritten question lacks is appended in brackets, so that retrieval (dense and
  BM25) finds the story again: the user's names (two at most: the last question's, then the first's,
  then an earlier answer's subject), the words of the last answer that a description points at ("that
  first clone" after "the first cloned mammal" -> "mammal"), what it quotes ("'Fast Car'"), and its
  first content words (the answer paraphrases the story the user now asks more about). The user's own
  topic words ("Which film took most of the big movie awards?" after the Golden Globes) come only when
  there is no name to carry, and the conversation's time ("this week") when the follow-up names none.
  The extractive answerer scores sentences by the share of the question's words they cover, so every
  carried word also pulls it towards sentences about the context: the caps below were measured on
  the follow-up evaluation set (README, Evaluation) (fewer lose the story in retrieval, more dilute the question into declines
  and answers about the earlier turn).
* A question that names its own subject and refers back to nothing is left alone.

Earlier turns are read in order, each rewritten against the ones before, so a pronoun in a third turn
reaches the entity the first one named. The condenser is a replaceable step: the engine takes any
object with ``condense(question, history)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Protocol, Sequence

from assistant.answer import Turn
from assistant.understanding.answer_types import answer_type, first_names, gazetteer
from assistant.text import MONTHS, STOPWORDS, WEEKDAYS, canonical_names, terms


class Condenser(Protocol):
    def condense(self, question: str, history: Sequence[Turn]) -> str: ...


# What a rewritten follow-up carries in brackets, at most.
MAX_CARRIED_NAMES = 2  # the user's names (and earlier answers' subjects)
MAX_ANTECEDENT_WORDS = 2  # words of the answer's phrase that a description ("that first clone") points at
MAX_QUOTED = 2  # phrases the last answer quotes
MAX_ANSWER_WORDS = 8  # content words of the last answer
MAX_TOPIC_WORDS = 3  # the user's own topic words, when there is no name to carry
# Under this similarity to the last exchange (question and answer, MiniLM cosine), a question that may
# start a new topic does: "When does the comet exhibit open?" after the dumpling festival is 0.25, "Which
# documentary won the top prize?" after the Nordic Film Awards 0.42.
NEW_TOPIC_SIMILARITY = 0.3

_QUESTION_WORDS = frozenset(
    "what who whom whose which when where why how did does do is are was were can could will would should "
    "has have had what's who's where's how's whats".split()
)
_CALENDAR = WEEKDAYS | MONTHS | frozenset("jan feb mar apr jun jul aug sep sept oct nov dec".split())
# Capitalised words that open a run without being part of a name ("Former President Donald Trump").
_NOT_NAMES = (
    _QUESTION_WORDS
    | _CALENDAR
    | STOPWORDS
    | frozenset(
        "a an the and but or so yes no not also then now just only very mostly badly several both lots many "
        "former first meanwhile okay ok well tell sport sport's thousands".split()
    )
)
# Words that join the parts of one name: "Bank of England", "Restore the Corridor", "Justice for App Workers".
_CONNECTORS = frozenset("of the de du la von van for".split())
# Abbreviations whose full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr gov sen rep gen lt col sgt capt adm prof vs inc corp co no ft mt "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# Words that put a person's name after them ("President Emmanuel Macron", "Gov. John Carney").
_TITLES = frozenset(
    "president minister chancellor secretary senator representative governor mayor king queen prince "
    "princess pope judge justice general ceo chairman coach ambassador commissioner gov sen rep dr mr mrs ms "
    "sir lady lord".split()
)
# Last words of names that are no person's ("Barclays Center", "Calvin Klein advert", "Golden Globes").
_THING_HEADS = frozenset(
    "center centre university college school church court department agency authority administration "
    "commission committee council party line lines airline airlines airport park beach stadium arena festival "
    "show awards award globes globe bowl cup league series championship house senate congress parliament "
    "museum library bank company corporation corp inc group network project bill act law river lake island "
    "county city state street avenue road bridge hospital institute foundation association union club team "
    "board service services office ministry army navy force guard police times post news journal day".split()
)
# Words of a question that ask about the asking rather than the topic ("What's the news from ...?",
# "Why is everyone talking about him?"), and words that date it: neither is worth carrying.
_NOT_TOPIC = _CALENDAR | frozenset(
    """happen happened happening happens news latest going go goes talking talk everyone anyone anybody
    someone somebody everybody lots lot thing things stuff story really actually exactly know tell told read
    heard hear want wants wanted think like worth watching big deal kind sort type way ways much many still
    ever even get gets got one ones today tonight yesterday tomorrow week weeks weekend month months year
    years season night morning afternoon evening day days time times ago last next recently currently
    right isn't aren't wasn't weren't don't doesn't didn't won't can't i'm it's there's that's what's
    whats who's let's yes no across around behind beyond near toward towards within without among upon via
    despite since though although afterwards away back already almost soon several enough including""".split()
)
# Leading words that only link the follow-up to the conversation: "And which state ...?", "So who won?".
_OPENER = re.compile(r"^\s*(?:and|so|but|also|meanwhile|okay|ok|well|then|now|plus)\b[\s,]*(?=\w)", re.I)
# "And the US?", "What about Canada?", "How about in Britain?": the earlier question, about another subject.
_ELLIPSIS = re.compile(r"^\s*(?:and|what about|how about|and what about)\s+(?:in\s+|for\s+)?(.+?)\s*[?.!]*\s*$", re.I)

_PERSONAL = {"he": "m", "him": "m", "his": "m", "himself": "m", "she": "f", "her": "f", "hers": "f", "herself": "f"}
_NEUTER = frozenset({"it", "its", "itself"})
_PLURAL = frozenset({"they", "them", "their", "theirs", "themselves"})
_POSSESSIVE = frozenset({"his", "its", "their", "hers", "theirs"})
_PRONOUN = re.compile(
    r"\b(he|him|his|himself|she|her|hers|herself|it|its|itself|they|them|their|theirs|themselves|there)\b"
    r"(['’](?:s|re|ve|ll|d)\b)?",
    re.I,
)
# "there" that refers to nothing: "Is there ...?", "there were", "up there".
_DUMMY_THERE = re.compile(r"\bthere\s+(?:is|are|was|were|will|would|has|have|had|been|be|'s|’s)\b", re.I)
_THERE_AFTER = re.compile(r"\b(?:is|are|was|were|up|over|out|down|in|from|to|near|back)\s+$", re.I)
# A pronoun whose name is what is asked: "What's his name?", "What is it called?", "Who is she?".
_ASKS_ITS_NAME = re.compile(
    r"\b(?:his|her|its|their)\s+(?:\w+\s+)?name\b"
    r"|(?:\b(?:is|was|are|were)|['’]s)\s+(?:it|he|she|they)\s+(?:called|named|known)\b"
    r"|\bname\s+(?:is|was|are|were)\s+(?:it|he|she|they)\b|^\W*who\s+(?:is|was|are|were)\s+(?:he|she|they)\s*\??\s*$",
    re.I,
)
# A word that refers back to something earlier: pronouns, "that vote", "the same", "there", "those".
_REFERS_BACK = re.compile(
    r"\b(?:he|him|his|himself|she|her|hers|herself|it|its|itself|they|them|their|theirs|themselves|"
    r"that|this|these|those|there|then|same|such)\b",
    re.I,
)

# When a question is asked about: "this week", "the latest".
_TIME_PHRASE = re.compile(
    r"\b(?:this|last|past)\s+(?:week|weekend|month|year)\b|\b(?:recently|latest|today|yesterday|tonight)\b", re.I
)
# A phrase the answer quotes: a title or a term ("'Fast Car'", "'natural organic reduction'").
_QUOTED = re.compile(r"(?:^|(?<=[\s(]))['‘\"“]([^'’\"”]{2,40})['’\"”](?=[\s.,;:!?)]|$)")
_WORD = re.compile(r"[^\W_](?:[\w&'’.\-]*[\w&.])?(?:['’]s?)?|[^\w\s]")
_CITATION = re.compile(r"\[\d+\]")
_POSSESSIVE_MARK = re.compile(r"(?:(?<=[^\W_])['’]s|(?<=s)['’])$")
# Words before a name that make the words after it part of one phrase ("the Iowa caucuses").
_DETERMINERS = frozenset("a an the this that these those its his her their our".split())
# Auxiliaries after which a name is the subject and the next word its verb ("When does the World Cup start?").
_DO = frozenset("do does did will would can could should may might must".split())
# Nouns that, asked for, make the answer a group ("Which team won?" "Smyrna." -> "they").
_GROUP_NOUNS = frozenset("team teams school schools club clubs band bands group groups side sides party parties".split())
# Past participles that end in no "-ed" ("When were the Iowa caucuses held?"): verbs, not nouns.
_PARTICIPLES = frozenset(
    """held made done seen known found built won lost told said paid sold shown given taken begun run set put
    hit cut led left met sent spent kept brought bought caught taught thought fought chosen driven written
    eaten fallen broken spoken stolen frozen hidden beaten grown thrown drawn flown worn torn born sworn
    become come gone struck hung shot stuck felt heard meant read""".split()
)
_NUMBER_WORDS = frozenset("one two three four five six seven eight nine ten eleven twelve dozen hundred thousand".split())


@dataclass
class _Mention:
    text: str
    kind: str  # "person", "place", "group", "thing" or "name" (a name of no known kind)
    gender: str | None = None  # "m" or "f", for a person whose first name tells
    start: int = 0  # index of its first word in the text
    phrase: bool = False  # a name with the words after it ("the Iowa caucuses"): a referent, not context
    common: bool = False  # a noun phrase without a name ("the fake robocalls"): a referent of last resort


@dataclass
class _Turn:
    standalone: str  # the user's question as rewritten, without the carried context
    mentions: tuple[_Mention, ...]
    topic: list[str]
    asks_for: str | None  # the kind of name it asked for ("person", "place", "group", "thing") or None
    answer: tuple[_Mention, ...] = ()  # the mentions of the engine's answer to it
    answer_text: str = ""

    def answer_subject(self) -> _Mention | None:
        """What the answer names first when the question asked for a name ("Which line ...?" "The
        Northshore Line."), as a thing of the asked kind; None when the answer opens otherwise ("He is
        the current vice president ...")."""
        if self.asks_for is None or not self.answer or self.answer[0].start > 5:
            return None
        first = self.answer[0]
        kind = first.kind
        if self.asks_for in ("person", "place"):
            kind = self.asks_for
        elif kind in ("place", "person", "name") or self.asks_for == "group":
            kind = self.asks_for
        return _Mention(first.text, kind, first.gender if kind == "person" else None, first.start)


@lru_cache(maxsize=1)
def _genders() -> dict[str, str]:
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


# Last words of the names of places that are no town or country ("NRG Stadium", "Shelby Park").
_VENUE_HEADS = frozenset(
    "stadium arena center centre park beach airport street avenue road bridge square county city island "
    "lake river mountain valley coast bay harbour harbor station".split()
)


@lru_cache(maxsize=4096)
def _is_place(name: str) -> bool:
    lowered = canonical_names(name).strip().lower()
    if lowered in {"unitedstates", "unitedkingdom", "unitedarabemirates"}:
        return True
    return any(lowered in gazetteer(g) for g in ("countries", "us_states", "cities"))


def _kind(words: list[str]) -> tuple[str, str | None]:
    """What a name is: ("person", gender) for "Donald Trump", "King Charles", "Gov. John Carney";
    "place" for "Iowa", "New Hampshire" or "NRG Stadium"; "group" for a plural name ("Golden
    Globes"); "thing" for a company, an event, a law; "name" when nothing tells."""
    name = " ".join(words)
    lowered = [w.lower().rstrip(".") for w in words]
    last = lowered[-1]
    plural = last.endswith("s") and not last.endswith(("ss", "us", "is"))
    if _is_place(name):
        return "place", None
    if len(words) > 1 and last in _VENUE_HEADS:
        return "place", None
    if last in _THING_HEADS or any(c.isdigit() for c in name):
        return ("group" if plural else "thing"), None
    titled = [i for i, w in enumerate(lowered[:-1]) if w in _TITLES]
    if titled:
        return "person", _genders().get(lowered[titled[-1] + 1])
    if 2 <= len(words) <= 4 and lowered[0] in first_names() and all(w[:1].isupper() for w in words):
        return "person", _genders().get(lowered[0])
    if len(words) == 1 and lowered[0] in first_names() and not words[0].isupper():
        return "person", _genders().get(lowered[0])
    if len(words) > 1 and plural:
        return "group", None
    if len(words) == 1 and (words[0].isupper() or any(c.isupper() for c in words[0][1:])):
        return "thing", None  # an acronym or a brand: "IRS", "SpaceX"
    return "name", None


@lru_cache(maxsize=2048)
def _tokens(text: str) -> tuple[tuple[str, str, str], ...]:
    """(word, its possessive ending or "", the punctuation after it or "") for each word of ``text``."""
    out: list[tuple[str, str, str]] = []
    for raw in _WORD.findall(_CITATION.sub(" ", text)):
        if not raw[0].isalnum():
            if out:
                out[-1] = (out[-1][0], out[-1][1], out[-1][2] + raw)
            continue
        raw = raw.lstrip("'’")
        if raw[-1:] in "'’" and raw[-2:-1] != "s":
            raw = raw[:-1]  # a closing quote: 'kill screen'
        if not raw:
            continue
        possessive = _POSSESSIVE_MARK.search(raw)
        mark = possessive.group(0) if possessive else ""
        word = raw[: len(raw) - len(mark)] if mark else raw
        punct = ""
        if word.endswith(".") and not (
            word.count(".") > 1 or len(word) <= 2 or word[:-1].lower() in _ABBREVIATIONS
        ):
            word, punct = word[:-1], "."
        if word:
            out.append((word, mark, punct))
    return tuple(out)


def _opens_sentence(tokens: tuple[tuple[str, str, str], ...], index: int) -> bool:
    return index == 0 or any(c in tokens[index - 1][2] for c in ".!?:;\"“‘(")


def _capitalised(word: str) -> bool:
    return word[:1].isupper()


def _acronym(word: str) -> bool:
    """"US", "IRS", "U.K.": capitals that are a name even when their letters spell a word."""
    return len(word) >= 2 and word.isupper()


def _continues(word: str) -> bool:
    """Whether a word may continue a name: capitalised, or a number ("House Bill 235", "10Best")."""
    return _capitalised(word) or word[:1].isdigit()


@lru_cache(maxsize=2048)
def _mentions(text: str) -> tuple[_Mention, ...]:
    """The names ``text`` uses, in order: runs of capitalised words (and numbers after them: "House
    Bill 235"), cut at punctuation, without the words that open them ("Former", "The", question
    words). A name in the possessive is a mention without the "'s" ("King Charles's health" -> "King
    Charles"); a possessive inside a name keeps it whole ("Matthew Stafford's Rams") and its owner
    counts too. A coordination of two names ("France and the U.K.") is one group mention, before its
    parts; a name after a determiner with common nouns after it ("the Iowa caucuses", "a Calvin Klein
    advert") is also a phrase, before the name. A single capitalised word opening a sentence counts
    only when it is a place, a first name, an acronym or has capitals inside ("Smyrna.", "SpaceX")."""
    tokens = _tokens(text)
    runs: list[tuple[int, int]] = []  # (first index, last index)
    i = 0
    while i < len(tokens):
        if not _capitalised(tokens[i][0]):
            i += 1
            continue
        j = i
        while not tokens[j][2] and j + 1 < len(tokens):
            nxt = tokens[j + 1][0]
            if tokens[j][1]:  # "Stafford's Rams": the possessive stays inside a name only before another
                if _capitalised(nxt) or nxt[:1].isdigit() and any(c.isalpha() for c in nxt):
                    j += 1
                    continue
                break
            if _continues(nxt):
                j += 1
                continue
            if (nxt.lower() in _CONNECTORS and j + 2 < len(tokens) and not tokens[j + 1][2]
                    and _capitalised(tokens[j + 2][0])):
                j += 2
                continue
            break
        first = i
        while first <= j and not tokens[first][1] and not _acronym(tokens[first][0]) and (
            tokens[first][0].lower() in _NOT_NAMES | _CONNECTORS or not _capitalised(tokens[first][0])
        ):
            first += 1
        last = j
        while last >= first and tokens[last][0].lower() in _CONNECTORS | _CALENDAR:
            last -= 1
        i = j + 1
        if first > last:
            continue
        if first == last and _opens_sentence(tokens, first) and not _stands_alone(tokens[first][0]):
            continue
        runs.append((first, last))

    mentions: list[_Mention] = []
    seen: set[str] = set()

    def add(mention: _Mention) -> None:
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
                add(_Mention(f"{surface} and {'the ' if len(between) == 2 else ''}{other}", "group", start=first))
        phrase = _phrase(tokens, first, last)
        if phrase:
            nouns = phrase.split()
            add(_Mention(f"{surface}{tokens[last][1]} {phrase}" if tokens[last][1] else f"{surface} {phrase}",
                         "group" if nouns[-1].endswith("s") and not nouns[-1].endswith("ss") else "thing",
                         start=first, phrase=True))
        if any(tokens[k][1] for k in range(first, last)):
            kind, gender = _kind(_after_last_possessive(tokens, first, last))
            add(_Mention(surface, kind, gender, first))
            owner: list[str] = []
            for k in range(first, last):
                owner.append(tokens[k][0])
                if tokens[k][1]:
                    kind, gender = _kind(owner)
                    add(_Mention(" ".join(owner), kind, gender, first))
                    owner = []
            continue
        kind, gender = _kind(words)
        add(_Mention(surface, kind, gender, first))
    return tuple(mentions)


def _after_last_possessive(tokens: tuple[tuple[str, str, str], ...], first: int, last: int) -> list[str]:
    """The words of a name after its last inner possessive: "Matthew Stafford's Rams" -> ["Rams"]."""
    k = last
    while k > first and not tokens[k - 1][1]:
        k -= 1
    return [tokens[m][0] for m in range(k, last + 1)]


def _phrase(tokens: tuple[tuple[str, str, str], ...], first: int, last: int) -> str | None:
    """The common nouns after a name that make one phrase with it: "the Iowa caucuses", "a Calvin Klein
    advert", "Nevada's Republican primary" (after a determiner or a possessive; not a verb after the
    subject of "does"/"did": "When does the World Cup start?")."""
    before = first - 1
    owned = tokens[last][1] or any(tokens[k][1] for k in range(first, last))
    if not owned and (before < 0 or tokens[before][0].lower() not in _DETERMINERS):
        return None
    if tokens[last][2]:
        return None
    # The subject of "did"/"does" ("What did France and the U.K. promise?"): the next word is its verb.
    k = first - 1
    while k >= 0 and not tokens[k][2] and (
        _capitalised(tokens[k][0]) or tokens[k][0].lower() in _DETERMINERS | {"and", "of"}
    ):
        k -= 1
    subject = k >= 0 and tokens[k][0].lower() in _DO and not tokens[k][2]
    nouns = _noun_run(tokens, last + 1, limit=6 if subject else 4)
    if subject:
        # "When does South Korea's new food ban take effect?": the phrase ends before a common verb;
        # with none to end it, its last word may be the verb ("What did the U.K. promise?").
        verb = next((i for i, w in enumerate(nouns) if w.lower() in _COMMON_VERBS), None)
        nouns = nouns[:verb] if verb is not None else []
    return " ".join(nouns) if nouns else None


# Verbs that follow the subject of "does"/"did" and seldom end a noun phrase.
_COMMON_VERBS = frozenset(
    """take make get come go start end begin open close happen work mean cost look run turn change become
    stay win lose pay show set hold need want let keep put help play say tell ask give find think feel leave
    bring move live die die allow plan hope expect affect react respond announce decide vote""".split()
)


def _noun_run(tokens: tuple[tuple[str, str, str], ...], k: int, limit: int = 4) -> list[str]:
    """The lower-case content words from ``tokens[k]`` on, up to a function word, a verb form or
    punctuation: a noun phrase's modifiers and head. Empty when more than ``limit`` follow."""
    nouns: list[str] = []
    while k < len(tokens):
        word, mark, ends = tokens[k]
        lowered = word.lower()
        if (not word[:1].islower() or not word.isalpha() and "-" not in word or lowered in STOPWORDS
                or lowered in _NOT_TOPIC or lowered in _QUESTION_WORDS or lowered in _PARTICIPLES
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
def _common_phrases(text: str) -> tuple[_Mention, ...]:
    """Noun phrases without a name that a pronoun may stand for: "the fake robocalls" (for "they"),
    "the new same-sex marriage law" (for "it"), "two concertgoers"."""
    tokens = _tokens(text)
    out: list[_Mention] = []
    for k, (word, _mark, punct) in enumerate(tokens):
        if punct or (word.lower() not in _DETERMINERS - {"that", "this", "its", "his", "her", "their"}
                     and word.lower() not in _NUMBER_WORDS):
            continue
        nouns = _noun_run(tokens, k + 1)
        after = k + 1 + len(nouns)
        if not nouns or after < len(tokens) and not tokens[after - 1][2] and (
            _capitalised(tokens[after][0]) or tokens[after][0].lower() not in STOPWORDS
        ):
            continue  # "the Iowa caucuses" is a name's phrase; "the new season" is cut short
        head = nouns[-1].lower()
        plural = head.endswith("s") and not head.endswith(("ss", "us", "is"))
        determiner = word.lower() if word.lower() in _NUMBER_WORDS else "the"
        kind = "group" if plural else "thing"
        out.append(_Mention(f"{determiner} {' '.join(nouns)}", kind, start=k, phrase=True, common=True))
    return tuple(out)


def _may_start_anew(question: str, turns: Sequence[_Turn]) -> bool:
    """Whether a question without names may start a new topic: it does not continue ("and ...", "what
    about ...") or refer back, and it has a noun phrase of two or more words none of which the
    conversation has used ("the comet exhibit" after talk of a festival; but also "the top prize" after
    talk of film awards, which the embedder tells apart: :class:`KeywordCondenser`)."""
    if _OPENER.match(question) or _ELLIPSIS.match(question) or _REFERS_BACK.search(question):
        return False
    own = set(terms(" ".join(m.text for m in _common_phrases(question))))
    if len(own) < 2:
        return False
    said: set[str] = set()
    for turn in turns:
        said |= set(terms(turn.standalone)) | set(terms(turn.answer_text or ""))
    return not own & said


def _stands_alone(word: str) -> bool:
    """Whether a capitalised word opening a sentence is still a name."""
    if len(word) >= 2 and word.isupper():
        return True
    if any(c.isupper() for c in word[1:]) or any(c.isdigit() for c in word):
        return True
    lowered = word.lower()
    return _is_place(word) or (lowered in first_names() and lowered not in STOPWORDS)


def _topic(text: str, mentions: Sequence[_Mention]) -> list[str]:
    """The content words of a question that are no part of its names, as written, in order."""
    named = {w.lower() for m in mentions if not m.phrase for w in m.text.split()}
    out: list[str] = []
    tokens = _tokens(text)
    verbs = _bare_verbs(tokens)
    for k, (word, _mark, _ends) in enumerate(tokens):
        lowered = word.lower()
        if (
            k in verbs
            or lowered in named
            or lowered in STOPWORDS
            or lowered in _QUESTION_WORDS
            or lowered in _NOT_TOPIC
            or lowered in _NUMBER_WORDS
            or _capitalised(word)
            or len(word) < 3
            or not _word_terms(word)
        ):
            continue
        if lowered not in out:
            out.append(lowered)
    # Nouns before verbs: "Has the IRS started taking 2023 tax returns?" -> tax, returns, started, taking.
    return sorted(out, key=_verbal)


_SUBJECT_WORDS = frozenset("i you we he she it they anyone anybody someone somebody everyone people".split())


def _bare_verbs(tokens: tuple[tuple[str, str, str], ...]) -> set[int]:
    """Indexes of the verbs that follow "did"/"does"/"will" and a subject without a determiner: "How
    did Greg Abbott react ...?", "Did anyone drop out?", "Did SpaceX launch a lander?"."""
    out: set[int] = set()
    for k, (word, _mark, punct) in enumerate(tokens):
        if word.lower() not in _DO or punct:
            continue
        j = k + 1
        while j < len(tokens) and not tokens[j][2] and (
            _capitalised(tokens[j][0]) or tokens[j][0].lower() in _SUBJECT_WORDS
        ):
            j += 1
        if j > k + 1 and j < len(tokens) and tokens[j][0][:1].islower() and not tokens[j - 1][1]:
            out.add(j)
    return out


# Nouns that end like adverbs ("badly", "early").
_LY_NOUNS = frozenset("family supply rally ally assembly reply anomaly monopoly butterfly belly jelly bully folly tally".split())


def _junk(word: str) -> bool:
    """A word of an answer not worth carrying: a score or a time ("208-0", "p.m."), an adverb."""
    if any(c.isdigit() for c in word) and not (word.isdigit() and len(word) == 4):
        return True
    return "." in word or word.endswith("ly") and word not in _LY_NOUNS


def _verbal(word: str) -> bool:
    """Whether a word looks like a verb form ("taking", "started", "held") rather than a noun."""
    return word in _PARTICIPLES or word.endswith(("ing", "ed"))


def _agrees(mention: _Mention, pronoun: str, strict: bool = True) -> bool:
    """Whether ``pronoun`` may stand for ``mention``: "he"/"she" for a person (of that sex when the
    first name tells), "it" for a thing, "they" for a group or a coordination, "there" for a place.
    Not ``strict``: a name of no known kind may be a person ("Kamila Valieva") or a thing, and a plural
    name a company ("Alaska Airlines")."""
    if pronoun in _PERSONAL:
        return (mention.kind == "person" or not strict and mention.kind == "name" and " " in mention.text) and (
            mention.gender in (None, _PERSONAL[pronoun])
        )
    if pronoun in _NEUTER:
        return mention.kind == "thing" or not strict and (
            mention.kind == "name" or mention.kind == "group" and not mention.common and " and " not in mention.text
        )
    if pronoun in _PLURAL:
        return mention.kind == "group"
    if pronoun == "there":
        return mention.kind == "place"
    return False


def _possessive(mention: _Mention) -> str:
    """"King Charles" -> "King Charles's"; a plural name takes the apostrophe alone ("the Chiefs'")."""
    if mention.kind == "group" and mention.text.endswith("s") and " and " not in mention.text:
        return f"{mention.text}'"
    return f"{mention.text}'s"


def _subject_swap(earlier: str, subject: str) -> str | None:
    """``earlier`` with its first name (or coordination of names) replaced by ``subject``."""
    target = next((m.text for m in _mentions(earlier) if not m.phrase), None)
    if not target or target not in earlier:
        return None
    return earlier.replace(target, subject, 1)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _asks_for(question: str) -> str | None:
    """The kind of name ``question`` asks for ("Which team won?" -> "group"), None if it asks no name."""
    atype = answer_type(question)
    if atype.kind != "name":
        return None
    if atype.person:
        return "person"
    if atype.places or re.match(r"^\W*where\b", question, re.I):
        return "place"
    focus = re.search(r"\b(?:which|what)\s+(\w+)", question, re.I)
    if focus and focus.group(1).lower() in _GROUP_NOUNS:
        return "group"
    return "thing"


class KeywordCondenser:
    """Rewrites follow-ups by resolving their pronouns against the conversation's mentions and carrying
    its key names and the words of the engine's last answer."""

    def __init__(self, similarity: Callable[[str, list[str]], list[float]] | None = None):
        # The embedder's similarity of a question to the conversation before it: a question that may start
        # a new topic (_may_start_anew) and is this far from the last exchange does, and carries nothing.
        self.similarity = similarity

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        # Read the conversation in order: each user turn is rewritten against the turns before it,
        # so "it" in a third turn reaches the entity the first one named.
        turns: list[_Turn] = []
        for turn in history:
            content = turn.content.strip()
            if not content:
                continue
            if turn.role == "user":
                standalone = self._rewrite(content, turns) if turns else content
                mentions = _mentions(standalone) + _common_phrases(standalone)
                turns.append(_Turn(standalone, mentions, _topic(standalone, mentions), _asks_for(standalone)))
            elif turns and "don't answer" not in content:
                turns[-1].answer = _mentions(content)
                turns[-1].answer_text = content
        if not turns:
            return question
        if self.similarity is not None and _may_start_anew(question, turns):
            last = f"{turns[-1].standalone} {turns[-1].answer_text}"
            if self.similarity(question, [last])[0] < NEW_TOPIC_SIMILARITY:
                return question
        standalone = self._rewrite(question, turns)
        if standalone is question:
            return question
        context = self._context(standalone, turns)
        return f"{standalone} ({' '.join(context)})" if context else str(standalone)

    @staticmethod
    def _rewrite(question: str, turns: list[_Turn]) -> str:
        """``question`` with its references resolved against ``turns`` (``question`` itself, the same
        object, when it stands alone); the context is not appended yet."""
        ellipsis = _ELLIPSIS.match(question)
        if ellipsis:
            subject = ellipsis.group(1).rstrip("?. ")
            if len(subject.split()) <= 5 and not any(w.lower() in _QUESTION_WORDS for w in subject.split()):
                swapped = _subject_swap(turns[-1].standalone, subject)
                if swapped:
                    return _Swapped(swapped)
        if _mentions(question) and not _REFERS_BACK.search(question):
            return question  # names its own subject and refers back to nothing: it stands alone
        rewritten = _capitalise(_OPENER.sub("", question)) or question
        return _substitute(rewritten, KeywordCondenser._candidates(turns))

    @staticmethod
    def _context(rewritten: str, turns: list[_Turn]) -> list[str]:
        """What ``rewritten`` should carry in brackets: names, the answer's words, topic words."""
        if isinstance(rewritten, _Swapped):
            return []  # "And the US?" -> "What did the US promise?": the earlier question, whole
        last = turns[-1]
        present = set(terms(rewritten))
        carried: list[str] = []

        def carry(text: str) -> bool:
            stemmed = set(terms(text))
            if not stemmed or stemmed <= present:
                return False
            carried.append(text)
            present.update(stemmed)
            return True

        if not _TIME_PHRASE.search(rewritten):
            # The follow-up is asked in the conversation's time: "this week" holds for it too.
            for turn in [last] + turns[:1]:
                when = _TIME_PHRASE.search(turn.standalone)
                if when:
                    carried.append(when.group(0).lower())
                    break
        names = 0
        for mention in KeywordCondenser._names(turns):
            if names >= MAX_CARRIED_NAMES:
                break
            if not mention.phrase and " and " not in mention.text:  # a coordination's names come on their own
                names += carry(mention.text)
        for word in _antecedent(rewritten, last.answer_text, MAX_ANTECEDENT_WORDS):
            carry(word)
        for quoted in _QUOTED.findall(last.answer_text)[:MAX_QUOTED]:
            carry(quoted)
        words = 0
        for word in _topic(last.answer_text, ()) if last.answer_text else []:
            if words >= MAX_ANSWER_WORDS:
                break
            if not _junk(word):
                words += carry(word)
        if names or _mentions(rewritten):
            return carried
        words = 0
        for turn in [last] + turns[:1] + turns[-2:0:-1]:
            for word in turn.topic:
                if words >= MAX_TOPIC_WORDS:
                    break
                words += carry(word)
        return carried

    @staticmethod
    def _names(turns: list[_Turn]) -> list[_Mention]:
        """The names to carry, most useful first: the user's own (the last question's, then the first's,
        then those between), then what the answers named when asked for a name."""
        out: list[_Mention] = []
        seen: set[str] = set()
        for turn in [turns[-1]] + turns[:1] + turns[-2:0:-1]:
            for mention in turn.mentions:
                if not mention.common and mention.text.lower() not in seen:
                    seen.add(mention.text.lower())
                    out.append(mention)
        for turn in reversed(turns):
            subject = turn.answer_subject()
            if subject is not None and subject.text.lower() not in seen:
                seen.add(subject.text.lower())
                out.append(subject)
        return out

    @staticmethod
    def _candidates(turns: list[_Turn]) -> list[_Mention]:
        """The mentions a follow-up's pronoun may refer to, most likely first: what the last answer
        named when it was asked for a name, the last question's mentions, then the earlier turns'."""
        out: list[_Mention] = []
        seen: set[str] = set()
        for turn in reversed(turns):
            for mention in (turn.answer_subject(), *turn.mentions):
                if mention is not None and mention.text.lower() not in seen:
                    seen.add(mention.text.lower())
                    out.append(mention)
        return out


class _Swapped(str):
    """An elliptical follow-up rewritten as the earlier question about its subject: it carries nothing."""


_BE_BEFORE = re.compile(r"\b(?:is|was|are|were)\s+$", re.I)
# A pronoun after a verb of saying refers to the question's own subject: "Which carrier said it had found ...?".
_SAID = re.compile(
    r"\b(?:said|says|say|announced|announces|claimed|claims|thinks|thought|believes|believed|admitted|denied|"
    r"confirmed|hopes|hoped|expects|expected|told)\s+(?:that\s+)?$",
    re.I,
)


def _substitute(question: str, candidates: list[_Mention]) -> str:
    """``question`` with each pronoun that has an agreeing candidate replaced by it, the first time
    only ("many of his duties while he's away" -> "many of King Charles's duties while he's away").
    Left alone: a pronoun whose name is asked ("What's his name?"), one that refers to the question's
    own subject ("its own", "which carrier said it ..."), a contraction ("he's"), a "there" that
    points nowhere ("Is there ...?", "up there")."""
    used: set[str] = set()
    keep_name = _ASKS_ITS_NAME.search(question)

    def swap(match: re.Match) -> str:
        pronoun = match.group(1).lower()
        before = question[: match.start()]
        if pronoun == "there" and (_DUMMY_THERE.match(question, match.start()) or _THERE_AFTER.search(before)):
            return match.group(0)
        if keep_name and keep_name.start() <= match.start() < keep_name.end():
            return match.group(0)
        after = question[match.end() :]
        if match.group(2) or re.match(r"\s+own\b", after, re.I) or _SAID.search(before):
            return match.group(0)
        if pronoun == "it" and _BE_BEFORE.search(before) and re.match(r"\s+(?:that|who)\b", after, re.I):
            return match.group(0)  # "Whose network was it that went down?": a cleft, "it" stands for the answer
        # A possessive cannot stand for what it possesses: "its new timetable" is not "the new
        # timetable's new timetable".
        owned = set(_word_terms_of(after[:40])) if pronoun in _POSSESSIVE else set()
        candidates_here = [m for m in candidates if not (owned and set(_word_terms_of(m.text)) <= owned)]
        named = [m for m in candidates_here if not m.common]
        referent = (
            next((m for m in named if _agrees(m, pronoun)), None)
            or next((m for m in named if _agrees(m, pronoun, strict=False)), None)
            or next((m for m in candidates_here if m.common and _agrees(m, pronoun)), None)
        )
        if referent is None or referent.text in used:
            return match.group(0)
        used.add(referent.text)
        if pronoun == "there":
            return f"in {referent.text}"
        if pronoun in _POSSESSIVE or (pronoun == "her" and _possessive_her(question, match.end())):
            return _possessive(referent)
        return referent.text

    return _PRONOUN.sub(swap, question)


def _word_terms_of(text: str) -> list[str]:
    return [t for word in re.findall(r"[A-Za-z][\w'’-]*", text) for t in _word_terms(word)]


def _possessive_her(question: str, end: int) -> bool:
    """Whether the "her" ending at ``end`` is a possessive ("her duties"), not an object ("beat her")."""
    following = re.match(r"\s+([A-Za-z][\w'’-]*)", question[end:])
    if not following:
        return False
    word = following.group(1).lower()
    return word not in STOPWORDS and word not in _QUESTION_WORDS and not word.endswith("ly")


# "that first clone", "the chain", "those loose bolts": a description of something said before.
_DESCRIPTION = re.compile(r"\b(?:that|this|those|these|the)\s+((?:[a-z][\w-]*\s+){0,2}[a-z][\w-]*)")
# "Which chain is that?", "What holiday is this?": the asked noun describes what "that" points at.
_WHICH_IS_THAT = re.compile(
    r"^\W*(?:which|what)\s+((?:[a-z][\w-]*\s+){0,2}[a-z][\w-]*)\s+(?:is|was|are|were)\s+(?:that|this|those|these)\b", re.I
)
_SENTENCE = re.compile(r"[^.!?;]+(?:[.!?;]+|$)")


def _antecedent(question: str, answer: str, limit: int) -> list[str]:
    """The other words of the phrase in the earlier answer that a description in ``question`` points
    at: "Which animal was that first clone?" after "... the same technique behind the first cloned
    mammal, in 1996." -> ["mammal"]; "What is that festival called?" after "... at the Firefly
    festival site" -> ["Firefly"]. Empty when the description's nouns are not in the answer."""
    if not answer:
        return []
    heads: set[str] = set()
    for match in list(_DESCRIPTION.finditer(question)) + list(filter(None, [_WHICH_IS_THAT.match(question)])):
        for word in match.group(1).split():
            lowered = word.lower()
            if lowered in STOPWORDS or lowered in _NOT_TOPIC or lowered in _QUESTION_WORDS or _verbal(lowered):
                break  # the description ends at its first verb: "the project called"
            heads.update(_word_terms(word))
    if not heads:
        return []
    asked = set(terms(question))
    for sentence in _SENTENCE.findall(_CITATION.sub(" ", answer)):
        tokens = [w for w, _mark, _punct in _tokens(sentence)]
        stems = [next(iter(_word_terms(w)), "") for w in tokens]
        hit = next((i for i, t in enumerate(stems) if t in heads), None)
        if hit is None:
            continue

        def content(i: int) -> bool:
            word = tokens[i].lower()
            return bool(stems[i]) and word not in _NOT_TOPIC and word not in _QUESTION_WORDS and not word.isdigit()

        # After a modifier ("the first cloned mammal") comes what it describes; before a noun ("the
        # Firefly festival site"), what tells which one.
        step = 1 if _verbal(tokens[hit].lower()) else -1
        picked: list[int] = []
        k = hit + step
        while 0 <= k < len(tokens) and content(k) and len(picked) < limit:
            picked.append(k)
            k += step
        return [tokens[i] for i in sorted(picked) if stems[i] not in asked]
    return []


@lru_cache(maxsize=16384)
def _word_terms(word: str) -> tuple[str, ...]:
    return tuple(terms(word))
