"""The keyword condenser's steps, one at a time (tests/test_condense.py has the whole rewrite): the words,
the mentions and their kinds, the conversation read, the rewrite (ellipsis, pronouns) and the carried
context. The expected values are what the steps do today, on the examples their docstrings name."""

from __future__ import annotations

import pytest

from assistant.answer import Turn
from assistant.understanding.condense import context, exchange, mentions, rewrite, words
from assistant.understanding.condense.condenser import KeywordCondenser, may_start_anew, read_conversation
from assistant.understanding.condense.mentions import Mention
from assistant.understanding.condense.vocabulary import ASKS_ITS_NAME, PRONOUN


def conversation(*texts: str):
    """The exchanges read from ``texts``, alternately the user's and the engine's."""
    return read_conversation([Turn(role="user" if i % 2 == 0 else "assistant", content=t) for i, t in enumerate(texts)])


def rows(found):
    return [(m.text, m.kind, m.gender) for m in found]


SPAIN = ("What did Spain pledge at the climate summit?", "A coal phase-out by 2030.")
MAYOR = ("Did Maria Lopez beat John Becker in the mayoral race?", "Yes, by about 400 votes.")
LINE = ("Which line is getting a new timetable?", "The Northshore Line, from next month.")
NURSES = ("Why are the hospital nurses in Leeds angry?", "Their pay offer fell short of inflation again.")
MONTANA = ("Who won the governor's race in Montana?", "Greg Holt, a rancher from the east of the state.")
MARATHON = ("What happened at the Westfield marathon this week?", "Record heat slowed the runners.")
OMAR = ("Did Omar Lind perform at the music awards?", "Yes, he sang 'Paper Boats', his new single, as a surprise duet.")
NORDIC = ("Were the Nordic Film Awards any good this year?", "Mostly: the ceremony was lively and short.")
FESTIVAL = ("When is the Harbourfront Dumpling Festival?", "It runs on Saturday at Pier 4.")


# --- words -------------------------------------------------------------------------------------------------
def test_tokenize_splits_possessives_punctuation_and_citations():
    assert words.tokenize("King Charles's health") == (("King", "", ""), ("Charles", "'s", ""), ("health", "", ""))
    assert words.tokenize("the Chiefs' coach")[1] == ("Chiefs", "'", "")
    # "Jan." keeps its full stop (an abbreviation), "p.m." too; "[1]" is no word.
    assert words.tokenize("Yes, 2-1 on Saturday, Jan. 20, at 3 p.m. [1]") == (
        ("Yes", "", ","), ("2-1", "", ""), ("on", "", ""), ("Saturday", "", ","), ("Jan.", "", ""), ("20", "", ","),
        ("at", "", ""), ("3", "", ""), ("p.m.", "", ""),
    )


def test_opens_sentence_after_an_end_mark_a_colon_or_a_bracket():
    tokens = words.tokenize('He said: "Paris is nice." Then (London)')
    assert [t[0] for i, t in enumerate(tokens) if words.opens_sentence(tokens, i)] == ["He", "Paris", "Then", "London"]


@pytest.mark.parametrize("word, expected", [("US", True), ("IRS", True), ("Us", False), ("I", False)])
def test_acronym(word, expected):
    assert words.acronym(word) is expected


def test_continues_name_and_verbal():
    assert [words.continues_name(w) for w in ("235", "Bill", "and")] == [True, True, False]
    assert [words.verbal(w) for w in ("taking", "held", "started", "mammal")] == [True, True, True, False]


def test_word_terms():
    assert words.word_terms("running") == ("run",)
    assert words.word_terms("the") == ()
    assert words.word_terms_of("the new timetable") == ["new", "timet"]


# --- mentions ----------------------------------------------------------------------------------------------
def test_genders_from_the_census_lists():
    genders = mentions.genders()
    assert (genders["donald"], genders["maria"], genders["jordan"]) == ("m", "f", "m")
    assert "taylor" not in genders  # given to both sexes


def test_is_place():
    assert [mentions.is_place(n) for n in ("Iowa", "U.S.", "New Hampshire", "Paris", "Portside")] == [True] * 4 + [False]


@pytest.mark.parametrize(
    "name, kind",
    [
        ("Donald Trump", ("person", "m")),
        ("Gov. John Carney", ("person", "m")),  # after a title
        ("Maria Lopez", ("person", "f")),
        ("Kamila Valieva", ("name", None)),  # a first name the lists do not have
        ("Iowa", ("place", None)),
        ("NRG Stadium", ("place", None)),
        ("Barclays Center", ("place", None)),
        ("Golden Globes", ("group", None)),
        ("Alaska Airlines", ("group", None)),
        ("House Bill 235", ("thing", None)),
        ("IRS", ("thing", None)),
        ("SpaceX", ("thing", None)),
        ("Brightwater Energy", ("name", None)),
    ],
)
def test_name_kind(name, kind):
    assert mentions.name_kind(name.split()) == kind


def test_name_runs_drop_opening_words_and_single_sentence_openers():
    runs = lambda text: mentions.name_runs(words.tokenize(text))  # noqa: E731
    assert runs("Former President Donald Trump spoke.") == [(1, 3)]  # "Former" opens no name
    assert runs("What did the Bank of England say on Monday?") == [(3, 5)]  # "Monday" is a date
    assert runs("Smyrna. Then Iowa.") == [(0, 0), (2, 2)]
    assert runs("The chain said so.") == []


def test_mentions_in():
    assert rows(mentions.mentions_in("What did France and the U.K. promise?")) == [
        ("France and the U.K.", "group", None), ("France", "place", None), ("U.K.", "place", None)
    ]
    assert rows(mentions.mentions_in("What is the latest on King Charles's health?")) == [
        ("King Charles's health", "thing", None), ("King Charles", "person", "m")
    ]
    assert rows(mentions.mentions_in("Former President Donald Trump spoke about Nevada's Republican primary.")) == [
        ("President Donald Trump", "person", "m"), ("Nevada's Republican primary", "thing", None),
        ("Nevada's Republican", "name", None), ("Nevada", "place", None),
    ]
    phrase, name = mentions.mentions_in("When were the Iowa caucuses held?")
    assert (phrase.text, phrase.phrase, name.text, name.phrase) == ("Iowa caucuses", True, "Iowa", False)
    assert rows(mentions.mentions_in("When does the World Cup start?")) == [("World Cup", "thing", None)]
    assert rows(mentions.mentions_in("Smyrna.")) == [("Smyrna", "place", None)]


def test_name_phrase_and_its_noun_run():
    def phrase(text, first, last):
        return mentions.name_phrase(words.tokenize(text), first, last)

    assert phrase("When were the Iowa caucuses held?", 3, 3) == "caucuses"
    assert phrase("Did you see a Calvin Klein advert?", 4, 5) == "advert"
    assert phrase("What is Nevada's Republican primary?", 2, 3) == "primary"
    assert phrase("When does South Korea's new food ban take effect?", 2, 3) == "new food ban"  # ends before "take"
    assert phrase("When does the World Cup start?", 3, 4) is None  # "start" is the verb
    assert phrase("What did the U.K. promise?", 3, 3) is None

    def run(text):
        return mentions.noun_run(words.tokenize(text), 1)

    assert run("the fake robocalls were sent") == ["fake", "robocalls"]
    assert run("the new same-sex marriage law passed") == ["new", "same-sex", "marriage", "law"]
    assert run("a very big long red old house") == []  # too long to be one noun phrase


def test_after_last_possessive():
    assert mentions.after_last_possessive(words.tokenize("Did Matthew Stafford's Rams win?"), 1, 3) == ["Rams"]


def test_common_phrases_in():
    assert rows(mentions.common_phrases_in("Why are the hospital nurses in Leeds angry?")) == [("the hospital nurses", "group", None)]
    assert rows(mentions.common_phrases_in("Is the new same-sex marriage law in force?")) == [
        ("the new same-sex marriage law", "thing", None)
    ]
    assert rows(mentions.common_phrases_in("Two concertgoers were hurt.")) == [("two concertgoers", "group", None)]
    assert mentions.common_phrases_in("When were the Iowa caucuses held?") == ()  # a name's phrase
    assert all(m.common and m.phrase for m in mentions.common_phrases_in("Two concertgoers were hurt."))


def test_opening_word_is_name():
    assert [mentions.opening_word_is_name(w) for w in ("Smyrna", "SpaceX", "IRS", "Maria", "The", "Which", "Will")] == [
        True, True, True, True, False, False, False
    ]


# --- the conversation read ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "question, kind",
    [("Which team won?", "group"), ("Who won the race?", "person"), ("Where is it held?", "place"),
     ("Which state gets the final?", "place"), ("Which line runs late?", "thing"), ("How many bands will play?", None)],
)
def test_asks_for(question, kind):
    assert exchange.asks_for(question) == kind


def test_answer_subject_is_the_answer_s_first_name_as_the_asked_kind():
    (line,) = conversation(*LINE)
    assert rows([line.answer_subject()]) == [("Northshore Line", "thing", None)]
    # "Golden Crust" reads as a woman's name; asked "Which bakery ...?", it is a thing.
    (bakery,) = conversation("Which bakery won the city's best bread contest?", "The Golden Crust, a family shop near the old market.")
    assert rows(bakery.answer) == [("Golden Crust", "person", "f")]
    assert rows([bakery.answer_subject()]) == [("Golden Crust", "thing", None)]
    (mayor,) = conversation(*MAYOR)
    assert mayor.answer_subject() is None  # the question asked for no name


def test_read_conversation_rewrites_each_turn_against_the_ones_before():
    first, second = conversation(
        "What is the Riverside Line?", "A new tram route across the north of the city.", "When does it open?", "In May, after safety checks."
    )
    assert first.standalone == "What is the Riverside Line?"
    assert second.standalone == "When does Riverside Line open?"
    assert second.answer_text == "In May, after safety checks."
    (nurses,) = conversation(*NURSES)
    assert (rows(nurses.mentions), nurses.topic, nurses.asks_for) == (
        [("Leeds", "place", None), ("the hospital nurses", "group", None)], ["hospital", "nurses", "angry"], None
    )


def test_read_conversation_drops_a_declined_answer():
    (turn,) = conversation("Which company bought the Lakeside stadium?", "The ingested articles don't answer this question.")
    assert (turn.answer, turn.answer_text) == ((), "")


# --- the rewrite -------------------------------------------------------------------------------------------
def test_ellipsis_swap():
    spain = conversation(*SPAIN)
    swapped = rewrite.ellipsis_swap("And Portugal?", spain)
    assert isinstance(swapped, rewrite.Swapped) and swapped == "What did Portugal pledge at the climate summit?"
    assert rewrite.ellipsis_swap("What about the UK?", spain) == "What did the UK pledge at the climate summit?"
    assert rewrite.ellipsis_swap("And how many bands will play?", spain) is None  # a question word: elided, not elliptical
    assert rewrite.subject_swap("what did they pledge?", "Portugal") is None  # no name to swap


def test_names_its_own_subject():
    assert rewrite.names_its_own_subject("Where will the Riverside Food Fair be held?")
    assert not rewrite.names_its_own_subject("Did Maria Lopez say that?")  # "that" refers back
    assert not rewrite.names_its_own_subject("When did it first open?")


def test_rewrite_returns_the_question_itself_when_it_stands_alone():
    spain = conversation(*SPAIN)
    question = "Where will the Riverside Food Fair be held?"
    assert rewrite.rewrite(question, spain) is question
    assert rewrite.rewrite("And how many bands will play?", spain) == "How many bands will play?"  # opener dropped
    assert rewrite.rewrite("What is its new timetable?", conversation(*LINE)) == "What is Northshore Line's new timetable?"


def test_candidates_put_the_answer_s_subject_first():
    assert rows(rewrite.candidates(conversation(*MONTANA))) == [("Greg Holt", "person", "m"), ("Montana", "place", None)]
    assert rows(rewrite.candidates(conversation(*LINE))) == [("Northshore Line", "thing", None), ("the new timetable", "thing", None)]


def test_substitute():
    candidates = rewrite.candidates(conversation(*MAYOR))
    assert rewrite.substitute("When does she take office?", candidates) == "When does Maria Lopez take office?"
    # Each mention once: the second "her" stays.
    assert rewrite.substitute("Did she beat her rival?", candidates) == "Did Maria Lopez beat her rival?"
    assert rewrite.substitute("Did he say he's leaving?", candidates) == "Did John Becker say he's leaving?"
    assert rewrite.substitute("What's her name?", candidates) == "What's her name?"
    assert rewrite.substitute("How many people voted there?", rewrite.candidates(conversation(*MONTANA))) == (
        "How many people voted in Montana?"
    )


@pytest.mark.parametrize(
    "question, stays",
    [
        ("What's his name?", [True]),
        ("Is there a recount?", [True]),
        ("Why did they go up there?", [False, True]),
        ("Whose warehouse was it that burned down?", [True]),
        ("Which shipping firm said it would pay?", [True]),
        ("Which crew got a boat of its own?", [True]),
        ("Is he's right?", [True]),
        ("How many people voted there?", [False]),
        ("What did he say?", [False]),
    ],
)
def test_pronoun_stays(question, stays):
    keep_name = ASKS_ITS_NAME.search(question)
    assert [rewrite.pronoun_stays(question, m, keep_name) for m in PRONOUN.finditer(question)] == stays


def test_referent():
    line = rewrite.candidates(conversation(*LINE))
    # "its new timetable": not the timetable itself, so the line.
    assert rewrite.referent("its", " new timetable?", line).text == "Northshore Line"
    assert rewrite.referent("they", "", line) is None
    assert rewrite.referent("they", "", rewrite.candidates(conversation(*NURSES))).text == "the hospital nurses"
    mayor = rewrite.candidates(conversation(*MAYOR))
    assert (rewrite.referent("he", "", mayor).text, rewrite.referent("she", "", mayor).text) == ("John Becker", "Maria Lopez")


@pytest.mark.parametrize(
    "mention, pronoun, strict, agrees",
    [
        (Mention("Maria Lopez", "person", "f"), "she", True, True),
        (Mention("Maria Lopez", "person", "f"), "he", True, False),
        (Mention("Kamila Valieva", "name"), "she", True, False),
        (Mention("Kamila Valieva", "name"), "she", False, True),
        (Mention("Alaska Airlines", "group"), "it", True, False),
        (Mention("Alaska Airlines", "group"), "it", False, True),
        (Mention("France and the U.K.", "group"), "it", False, False),
        (Mention("France and the U.K.", "group"), "they", True, True),
        (Mention("Iowa", "place"), "there", True, True),
        (Mention("Iowa", "place"), "it", False, False),
    ],
)
def test_agrees(mention, pronoun, strict, agrees):
    assert rewrite.agrees(mention, pronoun, strict) is agrees


def test_possessive_of_and_possessive_her():
    assert [rewrite.possessive_of(m) for m in (Mention("King Charles", "person", "m"), Mention("the Chiefs", "group"),
                                                Mention("France and the U.K.", "group"))] == [
        "King Charles's", "the Chiefs'", "France and the U.K.'s"
    ]
    def her(question):
        return rewrite.possessive_her(question, question.index("her") + 3)

    assert [her(q) for q in ("Who took over her duties?", "Who is her lawyer?", "Did she beat her?",
                             "Did she beat her easily?", "Did they see her at the game?")] == [True, True, False, False, False]


def test_capitalise():
    assert rewrite.capitalise("how many bands will play?") == "How many bands will play?"


# --- the carried context -----------------------------------------------------------------------------------
def test_carried_accepts_only_new_words():
    carried = context.Carried("Who joined Omar Lind on stage?")
    assert [carried.add(t) for t in ("Omar Lind", "stage", "duet", "the", "duets")] == [False, False, True, False, False]
    assert carried.texts == ["duet"]


def carry(step, question, exchanges, *args):
    """What ``step`` alone carries for ``question`` (rewritten) after ``exchanges``."""
    carried = context.Carried(rewrite.rewrite(question, exchanges))
    returned = step(*args, carried)
    return carried.texts, returned


def test_carry_conversation_time():
    marathon = conversation(*MARATHON)
    assert carry(context.carry_conversation_time, "Who won the women's race?", marathon,
                 "Who won the women's race?", marathon)[0] == ["this week"]
    assert carry(context.carry_conversation_time, "Who won it last year?", marathon,
                 "Who won it last year?", marathon)[0] == []  # it names its own time


def test_carry_names():
    marathon = conversation(*MARATHON)
    # The phrase "Westfield marathon" is no name to carry; "Westfield" is.
    assert [m.text for m in context.names_to_carry(marathon)] == ["Westfield marathon", "Westfield"]
    assert carry(context.carry_names, "Who won the women's race?", marathon, marathon) == (["Westfield"], 1)
    omar = conversation(*OMAR)
    assert carry(context.carry_names, "Who joined him on stage?", omar, omar) == ([], 0)  # already in the question
    # The user's names first, then the answer's subject.
    assert [m.text for m in context.names_to_carry(conversation(*MONTANA))] == ["Montana", "Greg Holt"]


def test_carry_antecedent_quotes_and_answer_words():
    omar = conversation(*OMAR)
    question = "Who joined him on stage?"
    assert carry(context.carry_quotes, question, omar, omar[-1])[0] == ["Paper Boats"]
    assert carry(context.carry_answer_words, question, omar, omar[-1])[0] == ["sang", "new", "single", "surprise", "duet"]
    festival = conversation("What is that festival called?", "Fans camped at the Firefly festival site.")
    assert carry(context.carry_antecedent, "What is that festival called?", festival,
                 "What is that festival called?", festival[-1])[0] == ["Firefly"]


def test_carry_topic_words():
    nordic = conversation(*NORDIC)
    assert carry(context.carry_topic_words, "Which documentary won the top prize?", nordic, nordic)[0] == ["good"]


def test_carried_context_in_order():
    marathon = conversation(*MARATHON)
    assert context.carried_context("Who won the women's race?", marathon) == ["this week", "Westfield", "heat", "runners", "slowed"]
    nordic = conversation(*NORDIC)
    assert context.carried_context("Which documentary won the top prize?", nordic) == [
        "this year", "Nordic Film Awards", "ceremony", "short"
    ]
    assert context.carried_context(rewrite.Swapped("What did Portugal pledge?"), conversation(*SPAIN)) == []


def test_topic_words_put_nouns_before_verbs():
    question = "Has the IRS started taking 2023 tax returns?"
    assert context.topic_words(question, mentions.mentions_in(question)) == ["2023", "tax", "returns", "started", "taking"]
    question = "How did Greg Abbott react to the ruling?"
    assert context.topic_words(question, mentions.mentions_in(question)) == ["ruling"]  # "react" is the verb


def test_bare_verbs():
    assert context.bare_verbs(words.tokenize("How did Greg Abbott react to the ruling?")) == {4}
    assert context.bare_verbs(words.tokenize("Did anyone drop out?")) == {2}
    assert context.bare_verbs(words.tokenize("Which film took most of the big movie awards?")) == set()


@pytest.mark.parametrize("word, junk", [("208-0", True), ("p.m", True), ("3rd", True), ("badly", True), ("2024", False),
                                        ("family", False), ("duet", False)])
def test_junk(word, junk):
    assert context.junk(word) is junk


def test_antecedent():
    assert context.antecedent("What is that festival called?", "Fans camped at the Firefly festival site.", 2) == ["Firefly"]
    answer = "It used the same technique behind the first cloned mammal, in 1996."
    assert context.antecedent("Which animal was that clone?", answer, 2) == ["mammal"]
    assert context.antecedent("Which animal was that first clone?", answer, 2) == []  # meets "first" first
    assert context.antecedent("Which chain is that?", "The burger chain, founded in 1940, closed.", 2) == ["burger"]
    assert context.antecedent("Who won?", "Smyrna, 3-1.", 2) == []


# --- a new topic -------------------------------------------------------------------------------------------
def test_may_start_anew():
    festival = conversation(*FESTIVAL)
    assert may_start_anew("When does the comet exhibit open?", festival)
    assert not may_start_anew("And the comet exhibit?", festival)  # continues
    assert not may_start_anew("When does the dumpling stall open?", festival)  # the conversation's word
    assert not may_start_anew("When is it?", festival)  # refers back


def test_starts_new_topic_needs_a_low_similarity():
    festival = conversation(*FESTIVAL)
    seen: list[tuple[str, list[str]]] = []

    def similarity(score):
        def measure(question, texts):
            seen.append((question, texts))
            return [score]
        return measure

    question = "When does the comet exhibit open?"
    assert KeywordCondenser(similarity(0.25))._starts_new_topic(question, festival)
    assert not KeywordCondenser(similarity(0.42))._starts_new_topic(question, festival)
    assert seen[0] == (question, ["When is the Harbourfront Dumpling Festival? It runs on Saturday at Pier 4."])
    assert not KeywordCondenser()._starts_new_topic(question, festival)  # no similarity: never
    assert not KeywordCondenser(similarity(0.0))._starts_new_topic("When is it?", festival)
    assert len(seen) == 2  # asked only of a question that may start anew
    history = [Turn(role="user", content=FESTIVAL[0]), Turn(role="assistant", content=FESTIVAL[1])]
    assert KeywordCondenser(similarity(0.25)).condense(question, history) == question  # carries nothing
