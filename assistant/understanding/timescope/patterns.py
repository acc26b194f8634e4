"""What time phrases look like: the regexes and word lists the steps match against (data only).

:data:`POINT` finds a candidate phrase ("January 5", "in 2023", "last week", "two days ago"); its
named alternatives say which kind of phrase it is, and :mod:`.points` resolves each kind. The other
patterns read the words around a phrase (the preposition before it, a name it belongs to) and
:data:`NEWEST` the words that only prefer the newest articles.
"""

from __future__ import annotations

import re

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d\d"
_NUM = (
    r"(?:\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"a\s+few|few|several|a\s+couple\s+of|a\s+couple|couple\s+of)"
)
_UNIT = r"(?:hours?|days?|weeks?|months?|years?|decades?)"
_END = r"(?![\w-]*\d)(?!-\w)\b"  # not the start of "2023-24", "5th-largest", a longer number

# Each alternative is one "point": a period with a first and a last day. Named groups say which.
POINT = re.compile(
    "|".join(
        [
            rf"(?P<iso>\b{_YEAR}-[01]\d-[0-3]\d\b)",
            rf"(?P<md>\b(?P<md_m>{_MONTH})\s+(?P<md_d>{_DAY})(?:,?\s+(?P<md_y>{_YEAR}))?{_END})",
            rf"(?P<dm>\b(?P<dm_d>{_DAY})\s+(?P<dm_of>of\s+)?(?P<dm_m>{_MONTH})(?:,?\s+(?P<dm_y>{_YEAR}))?{_END})",
            rf"(?P<my>\b(?P<my_m>{_MONTH})(?:\s+of|,)?\s+(?P<my_y>{_YEAR}){_END})",
            rf"(?P<mon>\b(?P<mon_m>{_MONTH})(?!\w))",
            rf"(?P<decade>\b(?:the\s+)?(?P<decade_y>(?:19|20)\d0)'?s\b)",
            rf"(?P<years>\b(?P<years_a>{_YEAR})\s*[-–—/]\s*(?P<years_b>{_YEAR}|\d\d){_END})",  # 2002-2010, 2023-24
            rf"(?P<year>\b(?P<year_y>{_YEAR}){_END})",
            rf"(?P<wd>\b(?:(?P<wd_dir>last|this|next|past)\s+)?(?P<wd_d>{_WEEKDAY})\b)",
            r"(?P<day>\b(?:today|tonight|yesterday|tomorrow|last\s+night|this\s+(?:morning|afternoon|evening))\b)",
            r"(?P<wkend>\b(?P<wkend_dir>this\s+past|this|last|past|next|coming|the)\s+weekend\b)",
            # "this week", "last month", "the past year", "the past 10 days", "next week"
            rf"(?P<rel>\b(?P<rel_the>the\s+)?(?P<rel_dir>this\s+past|this|last|past|previous|next|coming|following)"
            rf"\s+(?:(?P<rel_n>{_NUM})\s+)?(?P<rel_u>{_UNIT})\b(?!\s+of\b))",
            rf"(?P<ago>\b(?P<ago_n>{_NUM})\s+(?P<ago_u>days?|weeks?|months?|years?)\s+ago\b)",
        ]
    ),
    re.IGNORECASE,
)

# Words that only prefer the newest.
NEWEST = re.compile(
    r"\b(?:most\s+recent(?:ly)?|latest|newest|recently|lately|(?:in\s+)?recent\s+(?:days|weeks|months|years)|"
    r"(?:the\s+)?last\s+time|recent)\b",
    re.IGNORECASE,
)

# The word right before a point (an "early"/"mid"/"late" between them is passed over).
WORD_BEFORE = re.compile(
    r"\b(?P<w>since|after|before|until|till|til|through|prior\s+to|up\s+to|between|from|in|during|"
    r"throughout|on|over|within|for|early|mid|late|earlier|so\s+far)[\s-]+(?:(?:early|mid|late)[\s-]+)?$",
    re.IGNORECASE,
)
# The second point of "between X and Y" / "from X to Y" follows one of these.
RANGE_JOIN = re.compile(r"\s*(?:\band\b|\bto\b|\bthrough\b|\buntil\b|\btill\b|-|–|—)\s*", re.IGNORECASE)
AFTER_RANGE_JOIN = re.compile(
    r"\b(?:between|from)\s+\S.{0,30}?(?:\s(?:and|to|through|until|till)\s+|\s*[-–—]\s*)$", re.IGNORECASE
)
BARE_DAY = re.compile(rf"(?P<d>{_DAY}){_END}", re.IGNORECASE)
ATTRIBUTIVE = re.compile(r"\b(?:the|a|an|this|that|its|their|his|her|our)\s+$", re.IGNORECASE)
COMPARISON = re.compile(r"\b(?:than|from|with|to|versus|vs\.?)\s+$", re.IGNORECASE)

LOOK_BACK = frozenset({"since", "after", "from", "between"})
BOUND_WORDS = frozenset({"since", "after", "before", "until", "till", "til", "through", "prior to", "up to"})
# What may stand before a year or a month named alone ("in 2023", "since March", "early January").
YEAR_WORDS = BOUND_WORDS | {"in", "during", "throughout", "between", "from", "and"}
MONTH_WORDS = YEAR_WORDS | {"early", "mid", "late"}

# A year after a preposition still names a thing when a noun follows it ("in 2023 federal income
# tax returns"); these words may follow a year that is a time.
AFTER_YEAR_OK = frozenset(
    "the a an and or but to in on at for of from by with was were is are be been did does do has have "
    "had will would could should can may might when what which who whom whose where why how after "
    "before than as compared versus vs so while because according alone only until since through "
    "onwards onward ago up it its this that these those there they he she we you i".split()
)
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "few": 3, "several": 5, "couple": 2,
}  # fmt: skip
# Names built on weekdays, and newspapers named after them.
WEEKDAY_NAME_BEFORE = re.compile(
    r"\b(?:super|black|good|cyber|ash|fat|giving|easter|holy|maundy|bloody|blue|palm|whit|shrove|mail\s+on)\s+$",
    re.IGNORECASE,
)
WEEKDAY_NAME_AFTER = re.compile(
    r"\s+(?:Times|Telegraph|Mirror|Express|Post|Herald|Independent|Mail|People|Sport|Star|World|Tribune|"
    r"Night\s+Football)\b"
)
TODAY_NAME_BEFORE = re.compile(r"\b(?:usa|psychology|marketing|the)\s+$", re.IGNORECASE)
