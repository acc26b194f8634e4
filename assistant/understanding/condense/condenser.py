"""Follow-up rewriting: turn the latest question into one that stands alone, given the history.

Without an LLM the rewrite reads the conversation as *mentions* (the names each user turn used, with
the kind of thing each is: a person, a place, a group, something else, and the noun phrases a pronoun
may stand for: :mod:`.mentions`) and the words of the engine's answers, and makes the follow-up carry
them:

* A pronoun is replaced by the most recent mention that agrees with it: "he"/"she" by a person (of
  that sex when the census first-name lists tell: "Donald Trump's first trial"), "it"/"its" by a thing
  (a company, an event, a law: "Apple's products", "Nevada's Republican primary"), "they"/"their" by a
  group, a coordination ("France and the U.K.") or a plural noun phrase ("the fake robocalls"),
  "there" by a place ("in Iowa"). The answer to an earlier "which ...?" or "who ...?" comes first: it
  names what the user now asks about ("Which line ...?" "The Northshore Line." -> "its timetable").
  A pronoun with no agreeing mention is left as it is, and so is one whose name is asked ("What's his
  name?"), one that stands for the question's own subject ("a landing of its own", "Which carrier said
  it ...?", "Whose network was it that ...?") and a "there" that points nowhere ("Is there ...?")
  (:mod:`.rewrite`).
* Possessives are written once: "King Charles's health" is a mention of "King Charles".
* An elliptical follow-up ("And the US?", "What about Canada?") is the earlier question with its
  subject replaced; an elided question ("And which state gets the final?", "Who came second?") keeps
  its own words and gains the earlier topic in brackets (:mod:`.rewrite`).
* The context the rewritten question lacks is appended in brackets, so that retrieval (dense and
  BM25) finds the story again: the user's names (two at most: the last question's, then the first's,
  then an earlier answer's subject), the words of the last answer that a description points at ("that
  clone" after "the first cloned mammal" -> "mammal"), what it quotes ("'Fast Car'"), and its
  first content words (the answer paraphrases the story the user now asks more about). The user's own
  topic words ("Which film took most of the big movie awards?" after the Golden Globes) come only when
  there is no name to carry, and the conversation's time ("this week") when the follow-up names none.
  The extractive answerer scores sentences by the share of the question's words they cover, so every
  carried word also pulls it towards sentences about the context: the caps (:mod:`.context`) were
  measured on the follow-up evaluation set (README, Evaluation) (fewer lose the story in retrieval,
  more dilute the question into declines and answers about the earlier turn).
* A question that names its own subject and refers back to nothing is left alone.
* Given the embedder's similarity, a question that may start a new topic (``may_start_anew``: it
  neither continues nor refers back, and its noun phrase is new to the conversation) and is far from
  the last exchange does: it is left alone and carries nothing.

Earlier turns are read in order, each rewritten against the ones before, so a pronoun in a third turn
reaches the entity the first one named. The condenser is a replaceable step: the engine takes any
object with ``condense(question, history)``.
"""

from __future__ import annotations

from typing import Callable, Protocol, Sequence

from assistant.answer import Turn
from assistant.text import terms
from assistant.understanding.condense.context import carried_context, topic_words
from assistant.understanding.condense.exchange import Exchange, asks_for
from assistant.understanding.condense.mentions import common_phrases_in, mentions_in
from assistant.understanding.condense.rewrite import rewrite
from assistant.understanding.condense.vocabulary import ELLIPSIS, OPENER, REFERS_BACK


class Condenser(Protocol):
    def condense(self, question: str, history: Sequence[Turn]) -> str: ...


# Under this similarity to the last exchange (question and answer, MiniLM cosine), a question that may
# start a new topic does: "When does the comet exhibit open?" after the dumpling festival is 0.25, "Which
# documentary won the top prize?" after the Nordic Film Awards 0.42.
NEW_TOPIC_SIMILARITY = 0.3


class KeywordCondenser:
    """Rewrites follow-ups by resolving their pronouns against the conversation's mentions and carrying
    its key names and the words of the engine's last answer."""

    def __init__(self, similarity: Callable[[str, list[str]], list[float]] | None = None):
        # The embedder's similarity of a question to the conversation before it: a question that may start
        # a new topic (may_start_anew) and is this far from the last exchange does, and carries nothing.
        self.similarity = similarity

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        exchanges = read_conversation(history)
        if not exchanges:
            return question
        if self._starts_new_topic(question, exchanges):
            return question
        standalone = rewrite(question, exchanges)
        if standalone is question:
            return question
        context = carried_context(standalone, exchanges)
        return f"{standalone} ({' '.join(context)})" if context else str(standalone)

    def _starts_new_topic(self, question: str, exchanges: list[Exchange]) -> bool:
        """Rule: a question that may start a new topic (``may_start_anew``) and is less similar than
        ``NEW_TOPIC_SIMILARITY`` to the last exchange does (never without a similarity)."""
        if self.similarity is not None and may_start_anew(question, exchanges):
            last = f"{exchanges[-1].standalone} {exchanges[-1].answer_text}"
            if self.similarity(question, [last])[0] < NEW_TOPIC_SIMILARITY:
                return True
        return False


def read_conversation(history: Sequence[Turn]) -> list[Exchange]:
    """Rule: the conversation is read in order, each user turn rewritten against the exchanges before it,
    so "it" in a third turn reaches the entity the first one named; an answer that declines ("don't
    answer") is no context."""
    exchanges: list[Exchange] = []
    for turn in history:
        content = turn.content.strip()
        if not content:
            continue
        if turn.role == "user":
            standalone = rewrite(content, exchanges) if exchanges else content
            mentions = mentions_in(standalone) + common_phrases_in(standalone)
            exchanges.append(Exchange(standalone, mentions, topic_words(standalone, mentions), asks_for(standalone)))
        elif exchanges and "don't answer" not in content:
            exchanges[-1].answer = mentions_in(content)
            exchanges[-1].answer_text = content
    return exchanges


def may_start_anew(question: str, exchanges: Sequence[Exchange]) -> bool:
    """Whether a question without names may start a new topic: it does not continue ("and ...", "what
    about ...") or refer back, and it has a noun phrase of two or more words none of which the
    conversation has used ("the comet exhibit" after talk of a festival; but also "the top prize" after
    talk of film awards, which the embedder tells apart: :class:`KeywordCondenser`)."""
    if OPENER.match(question) or ELLIPSIS.match(question) or REFERS_BACK.search(question):
        return False
    own = set(terms(" ".join(m.text for m in common_phrases_in(question))))
    if len(own) < 2:
        return False
    said: set[str] = set()
    for exchange in exchanges:
        said |= set(terms(exchange.standalone)) | set(terms(exchange.answer_text or ""))
    return not own & said
