"""Time in questions -> TimeScope: a table of questions resolved against fixed reference days."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from assistant.answer import TimeScope
from assistant.understanding.timescope import parse_time_scope, reference_date

WED = date(2024, 2, 14)  # a Wednesday in a leap year
TUE = date(2026, 1, 20)  # a Tuesday in January
D = date

# (question, reference, expected): expected is None (no time scope) or (kind, since, until).
CASES = [
    # --- relative to when it is asked: a preference (kind "recent") --------------------------------
    ("Which automaker recalled more than 380,000 pickup trucks this week?", WED, ("recent", D(2024, 2, 8), WED)),
    ("Who won the Nevada Republican primary this week?", TUE, ("recent", D(2026, 1, 14), TUE)),
    ("What did the Fed announce today?", WED, ("recent", WED, WED)),
    ("Who spoke at the rally this morning?", WED, ("recent", WED, WED)),
    ("Which team lost yesterday?", WED, ("recent", D(2024, 2, 13), D(2024, 2, 13))),
    ("What happened last night in Gaza?", TUE, ("recent", D(2026, 1, 19), D(2026, 1, 19))),
    ("A plane door panel blew out mid-air last week on a flight operated by which airline?", WED,
     ("recent", D(2024, 2, 5), D(2024, 2, 11))),  # the previous calendar week, Monday to Sunday
    ("What was decided in the last week?", WED, ("recent", D(2024, 2, 8), WED)),  # rolling
    ("Which holiday is celebrated by millions of people this month?", WED, ("recent", D(2024, 2, 1), WED)),
    ("Which bank collapsed last month?", WED, ("recent", D(2024, 1, 1), D(2024, 1, 31))),
    ("Which bank collapsed last month?", TUE, ("recent", D(2025, 12, 1), D(2025, 12, 31))),
    ("What did the company earn over the past month?", WED, ("recent", D(2024, 1, 15), WED)),
    ("Which vegetable notched a significant price increase this year?", WED, ("recent", D(2024, 1, 1), WED)),
    ("Who won the election last year?", TUE, ("recent", D(2025, 1, 1), D(2025, 12, 31))),
    ("How many storms hit the coast over the past 10 days?", WED, ("recent", D(2024, 2, 5), WED)),
    ("What happened in the past 24 hours?", WED, ("recent", D(2024, 2, 13), WED)),
    ("How has the market moved in the last three months?", WED, ("recent", D(2023, 11, 15), WED)),
    ("How much has the city grown for the last 17 years?", WED, ("recent", D(2007, 2, 15), WED)),
    ("What did the senator say on Monday?", WED, ("recent", D(2024, 2, 12), D(2024, 2, 12))),
    ("What did the senator say on Wednesday?", WED, ("recent", WED, WED)),  # asked on a Wednesday: today
    ("What did the senator say last Wednesday?", WED, ("recent", D(2024, 2, 7), D(2024, 2, 7))),
    ("Which tech giant surpassed Apple last Friday?", TUE, ("recent", D(2026, 1, 16), D(2026, 1, 16))),
    ("What has changed since Monday?", TUE, ("recent", D(2026, 1, 19), None)),
    ("Who was hurt over the weekend?", WED, ("recent", D(2024, 2, 10), D(2024, 2, 11))),
    ("What happened two weeks ago?", WED, ("recent", D(2024, 1, 28), D(2024, 2, 3))),
    ("What did the court decide three days ago?", WED, ("recent", D(2024, 2, 11), D(2024, 2, 11))),
    ("Which comedian will return to late-night TV next month?", WED, ("recent", D(2024, 3, 1), D(2024, 3, 31))),
    ("Which island nation recently elected a new leader?", WED, ("recent", None, None)),
    ("What is the latest on the strike?", WED, ("recent", None, None)),
    ("What is the name of the newest cancer treatment?", WED, ("recent", None, None)),
    ("Who was the most recent winner of the Masters?", WED, ("recent", None, None)),
    ("What has the company said in recent weeks?", WED, ("recent", None, None)),
    # --- calendar dates and periods: hard limits (kind "window") ----------------------------------
    ("Who won the Super Bowl in February?", WED, ("window", D(2024, 2, 1), D(2024, 2, 29))),
    ("Who won the Super Bowl in February?", TUE, ("window", D(2025, 2, 1), D(2025, 2, 28))),
    ("What happened in January?", WED, ("window", D(2024, 1, 1), D(2024, 1, 31))),
    ("What happened in January?", TUE, ("window", D(2026, 1, 1), D(2026, 1, 31))),
    ("What happened in March?", WED, ("window", D(2023, 3, 1), D(2023, 3, 31))),  # the last March
    ("What did the council approve in early Dec.?", TUE, ("window", D(2025, 12, 1), D(2025, 12, 31))),
    ("Who resigned in May?", WED, ("window", D(2023, 5, 1), D(2023, 5, 31))),
    ("What did the agency report in March 2024?", TUE, ("window", D(2024, 3, 1), D(2024, 3, 31))),
    ("What interest rate did the Bank of Canada set in January 2026?", TUE, ("window", D(2026, 1, 1), D(2026, 1, 31))),
    ("What was the University of Delaware student's name, shot near Newark in November 2012?", WED,
     ("window", D(2012, 11, 1), D(2012, 11, 30))),
    ("What did the mayor say on February 3?", WED, ("window", D(2024, 2, 3), D(2024, 2, 3))),
    ("What will the mayor say on Feb. 3rd?", TUE, ("window", D(2026, 2, 3), D(2026, 2, 3))),  # within 30 days: upcoming
    ("What did the mayor say on March 10?", TUE, ("window", D(2025, 3, 10), D(2025, 3, 10))),  # further: the last one
    ("What is planned on February 20?", WED, ("window", D(2024, 2, 20), D(2024, 2, 20))),  # upcoming
    ("What happened on December 28?", TUE, ("window", D(2025, 12, 28), D(2025, 12, 28))),
    ("What happened on the 3rd of March?", TUE, ("window", D(2025, 3, 3), D(2025, 3, 3))),
    ("What was the final score of the match on January 27, 2024?", TUE, ("window", D(2024, 1, 27), D(2024, 1, 27))),
    ("Sunday 21 January 2024 is the centenary of which revolutionary's death?", TUE,
     ("window", D(2024, 1, 21), D(2024, 1, 21))),
    ("What did Canada announce since March 1?", WED, ("window", D(2023, 3, 1), None)),
    ("What did Canada announce since March 1?", TUE, ("window", D(2025, 3, 1), None)),
    ("Which players were traded before Jan. 15?", WED, ("window", None, D(2024, 1, 14))),
    ("Which players were traded after Jan. 15?", WED, ("window", D(2024, 1, 16), None)),
    ("What was agreed until January 10?", TUE, ("window", None, D(2026, 1, 10))),
    ("What happened between Jan 5 and Jan 20?", WED, ("window", D(2024, 1, 5), D(2024, 1, 20))),
    ("What happened from Jan 5 to 20?", WED, ("window", D(2024, 1, 5), D(2024, 1, 20))),
    ("What happened between December 20 and January 5?", TUE, ("window", D(2025, 12, 20), D(2026, 1, 5))),
    ("What is Phish hosting in Dover from August 15th to August 18th, 2024?", TUE,
     ("window", D(2024, 8, 15), D(2024, 8, 18))),
    ("What did the Oreo brand launch in 2024?", WED, ("window", D(2024, 1, 1), D(2024, 12, 31))),
    ("Who led Smyrna to the state championship in 2023?", TUE, ("window", D(2023, 1, 1), D(2023, 12, 31))),
    ("What has the club won since 2023?", WED, ("window", D(2023, 1, 1), None)),
    ("What changed during 2022?", WED, ("window", D(2022, 1, 1), D(2022, 12, 31))),
    ("How did prices move between 2020 and 2022?", WED, ("window", D(2020, 1, 1), D(2022, 12, 31))),
    ("Who won 8 medals between 2002-2010?", WED, ("window", D(2002, 1, 1), D(2010, 12, 31))),
    ("What happened to music in the 1990s?", WED, ("window", D(1990, 1, 1), D(1999, 12, 31))),
    ("What was published on 2024-01-15?", TUE, ("window", D(2024, 1, 15), D(2024, 1, 15))),
    # --- nothing about time ----------------------------------------------------------------------
    ("Which Republican candidate was the runner-up in the Iowa caucuses?", WED, None),
    ("Who won the 2024 Polar Bear Plunge?", WED, None),
    ("Which city will host the 2026 Games?", TUE, None),
    ("When are 2023 federal income tax returns due?", WED, None),
    ("How many people filed in 2023 federal income tax returns?", WED, None),
    ("What did Theresa May say about Brexit?", WED, None),
    ("Which team may win the title?", WED, None),
    ("What type of cicadas appear in Delaware every 17 years?", WED, None),
    ("How long has the 17-year-old been missing?", WED, None),
    ("What happened 50 years ago at Woodstock?", WED, None),  # "N years ago" is not a scope
    ("Prices are up 5% from a month ago: which item rose most?", WED, None),  # a comparison
    ("Who marched in the Women's March?", WED, None),
    ("Who won the most Super Tuesday states?", WED, None),
    ("Which sales did Black Friday bring?", WED, None),
    ("What did the Sunday Times report about the king?", WED, None),
    ("Which anchor left USA Today?", WED, None),
    ("What did FLORIDA TODAY's Space Team cover?", WED, None),
    ("What did the January 6 committee find?", WED, None),
    ("Who won the March 5 primary?", WED, None),
    ("How many troops, between 1900 and 2000 troops, were sent?", WED, None),
    ("What is the capital of Australia?", WED, None),
    ("Who will help monitor a ceasefire in Ukraine?", TUE, None),
    ("What did he do on the last day of the trial?", WED, None),
]


@pytest.mark.parametrize(("question", "reference", "expected"), CASES, ids=[c[0][:60] for c in CASES])
def test_time_scope_table(question, reference, expected):
    scope = parse_time_scope(question, reference)
    if expected is None:
        assert scope is None, scope
        return
    assert scope is not None
    assert (scope.kind, scope.since, scope.until) == expected
    assert scope.reference == reference
    assert scope.phrase and scope.phrase in question


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("Which automaker recalled trucks this week?", "this week"),
        ("How many storms hit over the past 10 days?", "over the past 10 days"),
        ("Who won the Super Bowl in February?", "in February"),
        ("What did Canada announce since March 1?", "since March 1"),
        ("Which players were traded before Jan. 15?", "before Jan. 15"),
        ("What happened between Jan 5 and Jan 20?", "between Jan 5 and Jan 20"),
        ("What is the latest on the strike?", "latest"),
        # A range or a bound wins over a bare preference, wherever it stands.
        ("What is the latest news since March 1?", "since March 1"),
        ("Who is the most recent winner this week?", "this week"),
    ],
)
def test_phrase_is_the_matched_words(question, phrase):
    assert parse_time_scope(question, WED).phrase == phrase


def test_describe():
    assert parse_time_scope("What happened in January?", WED).describe() == "2024-01-01 to 2024-01-31 (in January)"
    assert parse_time_scope("What is the latest?", WED).describe() == "newest first (latest)"
    assert parse_time_scope("What happened on February 3?", WED).describe() == "2024-02-03 (on February 3)"
    assert parse_time_scope("What since March 1?", WED).describe() == "since 2023-03-01 (since March 1)"
    assert parse_time_scope("Who left before Jan. 15?", WED).describe() == "until 2024-01-14 (before Jan. 15)"
    assert parse_time_scope("Who won this week?", WED).describe() == "preferring 2024-02-08 to 2024-02-14 (this week)"


def test_upcoming_windows_are_flagged():
    assert parse_time_scope("What is planned on February 20?", WED).upcoming
    assert parse_time_scope("What happens next week?", WED).upcoming
    assert not parse_time_scope("What happened on February 3?", WED).upcoming
    assert not parse_time_scope("Who won this week?", WED).upcoming


def test_time_scope_round_trips_through_json():
    scope = parse_time_scope("What happened between Jan 5 and Jan 20?", WED)
    data = scope.model_dump(mode="json")
    assert data == {
        "phrase": "between Jan 5 and Jan 20",
        "since": "2024-01-05",
        "until": "2024-01-20",
        "kind": "window",
        "reference": "2024-02-14",
        "applied": True,
    }
    assert TimeScope.model_validate_json(scope.model_dump_json()) == scope


def test_reference_date():
    clock = date(2026, 11, 30)
    pinned = date(2024, 2, 14)
    assert reference_date(pinned, date(2026, 11, 29), clock) == pinned  # NEWSDESK_TODAY wins
    assert reference_date(pinned, None, clock) == pinned
    assert reference_date(None, date(2026, 11, 29), clock) == clock  # a live store: today
    assert reference_date(None, date(2026, 10, 31), clock) == clock  # 30 days old: still live
    assert reference_date(None, date(2026, 10, 30), clock) == date(2026, 10, 30)  # an archive: its last day
    assert reference_date(None, date(2024, 2, 14), clock) == date(2024, 2, 14)
    assert reference_date(None, None, clock) == clock  # empty or undated store


def test_today_setting_reads_newsdesk_today(monkeypatch):
    from assistant.settings import Settings

    monkeypatch.setenv("NEWSDESK_TODAY", "2024-02-14")
    assert Settings(_env_file=None).today == date(2024, 2, 14)
    monkeypatch.delenv("NEWSDESK_TODAY")
    assert Settings(_env_file=None).today is None


def test_dateparser_is_imported_lazily_and_needs_no_network():
    """Importing the module leaves dateparser alone; parsing works with every connection refused
    (its language data ships in the package)."""
    code = """
import socket, sys, datetime as dt
def refuse(*a, **k):
    raise OSError("network used")
socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = socket.getaddrinfo = refuse
import assistant.understanding.timescope as ts
assert "dateparser" not in sys.modules
scope = ts.parse_time_scope("What happened on February 3 and in March?", dt.date(2024, 2, 14))
assert "dateparser" in sys.modules
assert (scope.since, scope.until) == (dt.date(2024, 2, 3), dt.date(2024, 2, 3)), scope
print("ok")
"""
    repo = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
