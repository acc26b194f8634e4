"""What counts as a source supporting a sentence (the evaluator's and the LLM verifier's one check)."""

from __future__ import annotations

from assistant.citations import numbers, supports

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
