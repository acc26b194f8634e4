"""What counts as a source supporting a sentence (the evaluator's and the LLM verifier's one check)."""

from __future__ import annotations

from assistant.answering.citations import numbers, supports

SOURCE = (
    "The Cedar Point library branch opens on February 14 after a two-year renovation. "
    "It will lend 2,000 board games and hold five reading rooms, the city said."
)


def test_a_verbatim_quote_is_supported():
    assert supports("The Cedar Point library branch opens on February 14 after a two-year renovation.", SOURCE)


def test_a_paraphrase_with_the_source_s_numbers_is_supported():
    assert supports("The Cedar Point library branch opens February 14 after a renovation.", SOURCE)
    assert supports("The city said the branch will lend 2000 board games and hold 5 reading rooms.", SOURCE)


def test_a_paraphrase_with_a_number_the_source_does_not_state_is_not():
    assert not supports("The Cedar Point library branch opens on February 15 after a two-year renovation.", SOURCE)
    assert not supports("The city said the branch will lend 3,000 board games and hold five reading rooms.", SOURCE)


def test_numbers_are_compared_as_values():
    assert numbers("On 05 March, 1,200.50 dollars and nine cents; no one came.") == {"5", "1200.50", "9"}


def test_what_a_reply_repeats_of_the_question_needs_no_support():
    from assistant.answering.citations import supports

    source = "Thousands splashed in the surf on Sunday to raise money for Special Olympics Delaware, the organisers said."
    question = "What was the purpose of the 2024 Polar Bear Plunge at Rehoboth Beach?"
    reply = "The purpose of the 2024 Polar Bear Plunge at Rehoboth Beach was to raise money for Special Olympics Delaware."
    assert not supports(reply, source), "without the question, most of its words are not in the source"
    assert supports(reply, source, given=question)
    # what the reply adds must still come from the source: another beneficiary, another year, or nothing at all
    assert not supports(reply.replace("Special Olympics Delaware", "the harbour lifeboat crew"), source, given=question)
    assert not supports(reply.replace("raise money", "raise money in 2023"), source, given=question)
    assert not supports("The purpose of the 2024 Polar Bear Plunge at Rehoboth Beach.", source, given=question)
