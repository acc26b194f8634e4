"""The convention every metric of the evaluator follows: a share whose denominator is 0 (no
questions to measure it on) is ``None``, never 0 or an error."""

from __future__ import annotations


def ratio_or_none(num: float, den: float) -> float | None:
    return None if den == 0 else num / den
