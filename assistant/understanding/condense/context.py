"""Choosing the context a rewritten follow-up lacks, to append in brackets, so that retrieval (dense and
BM25) finds the story again. In order, each (but the time) carried only when it adds a word:

1. the conversation's time ("this week"), when the follow-up names none (``carry_conversation_time``);
2. the user's names, two at most: the last question's, then the first's, then an earlier answer's
   subject (``carry_names``, over ``names_to_carry``);
3. the words of the last answer that a description points at ("that clone" after "the first cloned
   mammal" -> "mammal": ``carry_antecedent``, with ``antecedent``);
4. what the last answer quotes ("'Fast Car'": ``carry_quotes``);
5. the last answer's first content words, as it paraphrases the story the user now asks more about
   (``carry_answer_words``);
6. only when no name was carried and the follow-up names none, the user's own topic words ("Which
   film took most of the big movie awards?" after the Golden Globes: ``carry_topic_words``).

The extractive answerer scores sentences by the share of the question's words they cover, so every
carried word also pulls it towards sentences about the context: the caps below were measured on the
follow-up evaluation set (README, Evaluation) (fewer lose the story in retrieval, more dilute the
question into declines and answers about the earlier turn)."""

from __future__ import annotations

from typing import Sequence

from assistant.text import STOPWORDS, terms
from assistant.understanding.condense.exchange import Exchange
from assistant.understanding.condense.mentions import Mention, mentions_in
from assistant.understanding.condense.rewrite import Swapped
from assistant.understanding.condense.vocabulary import (
    CITATION,
    DESCRIPTION,
    DO,
    LY_NOUNS,
    NOT_TOPIC,
    NUMBER_WORDS,
    QUESTION_WORDS,
    QUOTED,
    SENTENCE,
    SUBJECT_WORDS,
    TIME_PHRASE,
    WHICH_IS_THAT,
)
from assistant.understanding.condense.words import Tokens, capitalised, tokenize, verbal, word_terms

# What a rewritten follow-up carries in brackets, at most.
MAX_CARRIED_NAMES = 2  # the user's names (and earlier answers' subjects)
MAX_ANTECEDENT_WORDS = 2  # words of the answer's phrase that a description ("that first clone") points at
MAX_QUOTED = 2  # phrases the last answer quotes
MAX_ANSWER_WORDS = 8  # content words of the last answer
MAX_TOPIC_WORDS = 3  # the user's own topic words, when there is no name to carry


def carried_context(rewritten: str, exchanges: list[Exchange]) -> list[str]:
    """What ``rewritten`` should carry in brackets: names, the answer's words, topic words."""
    if isinstance(rewritten, Swapped):
        return []  # "And the US?" -> "What did the US promise?": the earlier question, whole
    last = exchanges[-1]
    carried = Carried(rewritten)
    carry_conversation_time(rewritten, exchanges, carried)
    names = carry_names(exchanges, carried)
    carry_antecedent(rewritten, last, carried)
    carry_quotes(last, carried)
    carry_answer_words(last, carried)
    if names or mentions_in(rewritten):
        return carried.texts
    carry_topic_words(exchanges, carried)
    return carried.texts


class Carried:
    """The context carried so far, and the (stemmed) words the question has with it: a text is carried
    only when it adds a word."""

    def __init__(self, rewritten: str):
        self.present = set(terms(rewritten))
        self.texts: list[str] = []

    def add(self, text: str) -> bool:
        """Carry ``text`` unless all its words are present already; whether it was carried."""
        stemmed = set(terms(text))
        if not stemmed or stemmed <= self.present:
            return False
        self.texts.append(text)
        self.present.update(stemmed)
        return True


def carry_conversation_time(rewritten: str, exchanges: list[Exchange], carried: Carried) -> None:
    """Rule: a follow-up that names no time is asked in the conversation's time ("this week"): the last
    question's, else the first's."""
    if not TIME_PHRASE.search(rewritten):
        # Appended as it is, not through ``Carried.add``: its words are not counted as present.
        for exchange in [exchanges[-1]] + exchanges[:1]:
            when = TIME_PHRASE.search(exchange.standalone)
            if when:
                carried.texts.append(when.group(0).lower())
                break


def carry_names(exchanges: list[Exchange], carried: Carried) -> int:
    """Rule: carry the user's names (``names_to_carry``), ``MAX_CARRIED_NAMES`` at most; how many were."""
    names = 0
    for mention in names_to_carry(exchanges):
        if names >= MAX_CARRIED_NAMES:
            break
        if not mention.phrase and " and " not in mention.text:  # a coordination's names come on their own
            names += carried.add(mention.text)
    return names


def carry_antecedent(rewritten: str, last: Exchange, carried: Carried) -> None:
    """Rule: carry the words of the last answer that a description in the question points at."""
    for word in antecedent(rewritten, last.answer_text, MAX_ANTECEDENT_WORDS):
        carried.add(word)


def carry_quotes(last: Exchange, carried: Carried) -> None:
    """Rule: carry what the last answer quotes ("'Fast Car'"), ``MAX_QUOTED`` phrases at most."""
    for quoted in QUOTED.findall(last.answer_text)[:MAX_QUOTED]:
        carried.add(quoted)


def carry_answer_words(last: Exchange, carried: Carried) -> None:
    """Rule: carry the last answer's first content words (no scores, times or adverbs: ``junk``),
    ``MAX_ANSWER_WORDS`` at most."""
    words = 0
    for word in topic_words(last.answer_text, ()) if last.answer_text else []:
        if words >= MAX_ANSWER_WORDS:
            break
        if not junk(word):
            words += carried.add(word)


def most_useful_first(exchanges: list[Exchange]) -> list[Exchange]:
    """The order context is looked for in: the last question, then the first, then those between,
    latest first (one conversation has the last as its first: it comes twice, harmlessly)."""
    return [exchanges[-1]] + exchanges[:1] + exchanges[-2:0:-1]


def carry_topic_words(exchanges: list[Exchange], carried: Carried) -> None:
    """Rule: carry the user's own topic words (the last question's, then the first's, then those
    between, latest first), ``MAX_TOPIC_WORDS`` at most; ``carried_context`` asks for them only when
    no name was carried and the follow-up names none."""
    words = 0
    for exchange in most_useful_first(exchanges):
        for word in exchange.topic:
            if words >= MAX_TOPIC_WORDS:
                break
            words += carried.add(word)


def names_to_carry(exchanges: list[Exchange]) -> list[Mention]:
    """Rule: the names to carry, most useful first: the user's own (the last question's, then the first's,
    then those between), then what the answers named when asked for a name."""
    out: list[Mention] = []
    seen: set[str] = set()
    for exchange in most_useful_first(exchanges):
        for mention in exchange.mentions:
            if not mention.common and mention.text.lower() not in seen:
                seen.add(mention.text.lower())
                out.append(mention)
    for exchange in reversed(exchanges):
        subject = exchange.answer_subject()
        if subject is not None and subject.text.lower() not in seen:
            seen.add(subject.text.lower())
            out.append(subject)
    return out


def topic_words(text: str, mentions: Sequence[Mention]) -> list[str]:
    """Rule: the topic of a question is its content words that are no part of its names, lower-cased, in
    order, nouns before verb forms."""
    named = {w.lower() for m in mentions if not m.phrase for w in m.text.split()}
    out: list[str] = []
    tokens = tokenize(text)
    verbs = bare_verbs(tokens)
    for k, (word, _mark, _ends) in enumerate(tokens):
        lowered = word.lower()
        if (
            k in verbs
            or lowered in named
            or lowered in STOPWORDS
            or lowered in QUESTION_WORDS
            or lowered in NOT_TOPIC
            or lowered in NUMBER_WORDS
            or capitalised(word)
            or len(word) < 3
            or not word_terms(word)
        ):
            continue
        if lowered not in out:
            out.append(lowered)
    # Nouns before verbs: "Has the IRS started taking 2023 tax returns?" -> tax, returns, started, taking.
    return sorted(out, key=verbal)


def bare_verbs(tokens: Tokens) -> set[int]:
    """Indexes of the verbs that follow "did"/"does"/"will" and a subject without a determiner: "How
    did Greg Abbott react ...?", "Did anyone drop out?", "Did SpaceX launch a lander?"."""
    out: set[int] = set()
    for k, (word, _mark, punct) in enumerate(tokens):
        if word.lower() not in DO or punct:
            continue
        j = k + 1
        while j < len(tokens) and not tokens[j][2] and (
            capitalised(tokens[j][0]) or tokens[j][0].lower() in SUBJECT_WORDS
        ):
            j += 1
        if j > k + 1 and j < len(tokens) and tokens[j][0][:1].islower() and not tokens[j - 1][1]:
            out.add(j)
    return out


def junk(word: str) -> bool:
    """Rule: a word of an answer not worth carrying: a score or a time ("208-0", "p.m."), an adverb."""
    if any(c.isdigit() for c in word) and not (word.isdigit() and len(word) == 4):
        return True
    return "." in word or word.endswith("ly") and word not in LY_NOUNS


def antecedent(question: str, answer: str, limit: int) -> list[str]:
    """The other words of the phrase in the earlier answer that a description in ``question`` points
    at: "Which animal was that clone?" after "... the same technique behind the first cloned mammal,
    in 1996." -> ["mammal"]; "What is that festival called?" after "... at the Firefly festival site"
    -> ["Firefly"]. Empty when the description's nouns are not in the answer. The answer's first word
    that is one of the description's is the one followed: "that first clone" meets "first" there,
    before "cloned", and gets nothing."""
    if not answer:
        return []
    heads: set[str] = set()
    for match in list(DESCRIPTION.finditer(question)) + list(filter(None, [WHICH_IS_THAT.match(question)])):
        for word in match.group(1).split():
            lowered = word.lower()
            if lowered in STOPWORDS or lowered in NOT_TOPIC or lowered in QUESTION_WORDS or verbal(lowered):
                break  # the description ends at its first verb: "the project called"
            heads.update(word_terms(word))
    if not heads:
        return []
    asked = set(terms(question))
    for sentence in SENTENCE.findall(CITATION.sub(" ", answer)):
        tokens = [w for w, _mark, _punct in tokenize(sentence)]
        stems = [next(iter(word_terms(w)), "") for w in tokens]
        hit = next((i for i, t in enumerate(stems) if t in heads), None)
        if hit is None:
            continue

        def content(i: int) -> bool:
            word = tokens[i].lower()
            return bool(stems[i]) and word not in NOT_TOPIC and word not in QUESTION_WORDS and not word.isdigit()

        # After a modifier ("the first cloned mammal") comes what it describes; before a noun ("the
        # Firefly festival site"), what tells which one.
        step = 1 if verbal(tokens[hit].lower()) else -1
        picked: list[int] = []
        k = hit + step
        while 0 <= k < len(tokens) and content(k) and len(picked) < limit:
            picked.append(k)
            k += step
        return [tokens[i] for i in sorted(picked) if stems[i] not in asked]
    return []
