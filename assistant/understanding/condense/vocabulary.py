"""The words and patterns the condenser's rules read, grouped by the step that reads them. Each is named
for what its words are; the rules themselves are in the other modules of the package."""

from __future__ import annotations

import re

from assistant.text import MONTHS, STOPWORDS, WEEKDAYS

# --- Words: how the text is cut ------------------------------------------------------------------------
# A word (letters, digits, inner apostrophes, hyphens and full stops, and a possessive ending) or one mark.
WORD = re.compile(r"[^\W_](?:[\w&'’.\-]*[\w&.])?(?:['’]s?)?|[^\w\s]")
# A citation marker of the engine's answers ("[1]"): no word of the text.
CITATION = re.compile(r"\[\d+\]")
# The possessive ending of a word: "Charles's" -> "'s", "Chiefs'" -> "'".
POSSESSIVE_MARK = re.compile(r"(?:(?<=[^\W_])['’]s|(?<=s)['’])$")
# Abbreviations whose full stop does not end a sentence.
ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr gov sen rep gen lt col sgt capt adm prof vs inc corp co no ft mt "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)

# --- Names: which capitalised words make one, and what kind of thing it is ----------------------------
# Words that ask: no name's and no topic's ("What", "Who's").
QUESTION_WORDS = frozenset(
    "what who whom whose which when where why how did does do is are was were can could will would should "
    "has have had what's who's where's how's whats".split()
)
# Days and months: they date a question, they name nothing it is about ("Saturday", "Jan").
CALENDAR = WEEKDAYS | MONTHS | frozenset("jan feb mar apr jun jul aug sep sept oct nov dec".split())
# Capitalised words that open a run without being part of a name ("Former President Donald Trump").
NOT_NAMES = (
    QUESTION_WORDS
    | CALENDAR
    | STOPWORDS
    | frozenset(
        "a an the and but or so yes no not also then now just only very mostly badly several both lots many "
        "former first meanwhile okay ok well tell sport sport's thousands".split()
    )
)
# Words that join the parts of one name: "Bank of England", "Restore the Corridor", "Justice for App Workers".
CONNECTORS = frozenset("of the de du la von van for".split())
# Words that put a person's name after them ("President Emmanuel Macron", "Gov. John Carney").
TITLES = frozenset(
    "president minister chancellor secretary senator representative governor mayor king queen prince "
    "princess pope judge justice general ceo chairman coach ambassador commissioner gov sen rep dr mr mrs ms "
    "sir lady lord".split()
)
# Last words of names that are no person's ("Barclays Center", "Calvin Klein advert", "Golden Globes").
THING_HEADS = frozenset(
    "center centre university college school church court department agency authority administration "
    "commission committee council party line lines airline airlines airport park beach stadium arena festival "
    "show awards award globes globe bowl cup league series championship house senate congress parliament "
    "museum library bank company corporation corp inc group network project bill act law river lake island "
    "county city state street avenue road bridge hospital institute foundation association union club team "
    "board service services office ministry army navy force guard police times post news journal day".split()
)
# Last words of the names of places that are no town or country ("NRG Stadium", "Shelby Park").
VENUE_HEADS = frozenset(
    "stadium arena center centre park beach airport street avenue road bridge square county city island "
    "lake river mountain valley coast bay harbour harbor station".split()
)
# Words before a name that make the words after it part of one phrase ("the Iowa caucuses").
DETERMINERS = frozenset("a an the this that these those its his her their our".split())
# Auxiliaries after which a name is the subject and the next word its verb ("When does the World Cup start?").
DO = frozenset("do does did will would can could should may might must".split())
# Verbs that follow the subject of "does"/"did" and seldom end a noun phrase.
COMMON_VERBS = frozenset(
    """take make get come go start end begin open close happen work mean cost look run turn change become
    stay win lose pay show set hold need want let keep put help play say tell ask give find think feel leave
    bring move live die die allow plan hope expect affect react respond announce decide vote""".split()
)
# Past participles that end in no "-ed" ("When were the Iowa caucuses held?"): verbs, not nouns.
PARTICIPLES = frozenset(
    """held made done seen known found built won lost told said paid sold shown given taken begun run set put
    hit cut led left met sent spent kept brought bought caught taught thought fought chosen driven written
    eaten fallen broken spoken stolen frozen hidden beaten grown thrown drawn flown worn torn born sworn
    become come gone struck hung shot stuck felt heard meant read""".split()
)
NUMBER_WORDS = frozenset("one two three four five six seven eight nine ten eleven twelve dozen hundred thousand".split())

# --- The follow-up: how it continues or refers back to the conversation --------------------------------
# Leading words that only link the follow-up to the conversation: "And which state ...?", "So who won?".
OPENER = re.compile(r"^\s*(?:and|so|but|also|meanwhile|okay|ok|well|then|now|plus)\b[\s,]*(?=\w)", re.I)
# "And the US?", "What about Canada?", "How about in Britain?": the earlier question, about another subject.
ELLIPSIS = re.compile(r"^\s*(?:and|what about|how about|and what about)\s+(?:in\s+|for\s+)?(.+?)\s*[?.!]*\s*$", re.I)
# A word that refers back to something earlier: pronouns, "that vote", "the same", "there", "those".
REFERS_BACK = re.compile(
    r"\b(?:he|him|his|himself|she|her|hers|herself|it|its|itself|they|them|their|theirs|themselves|"
    r"that|this|these|those|there|then|same|such)\b",
    re.I,
)
# Nouns that, asked for, make the answer a group ("Which team won?" "Smyrna." -> "they").
GROUP_NOUNS = frozenset("team teams school schools club clubs band bands group groups side sides party parties".split())

# --- Pronouns: what each may stand for, and when one is left alone --------------------------------------
# The pronouns by what they may stand for: a person of the sex given ("he", "her"), a thing ("it"), a group
# ("they"); the possessive ones are replaced by the owner's possessive ("its" -> "Apple's").
PERSONAL = {"he": "m", "him": "m", "his": "m", "himself": "m", "she": "f", "her": "f", "hers": "f", "herself": "f"}
NEUTER = frozenset({"it", "its", "itself"})
PLURAL = frozenset({"they", "them", "their", "theirs", "themselves"})
POSSESSIVE = frozenset({"his", "its", "their", "hers", "theirs"})
# A pronoun, and a contraction after it ("he's", "they're"), which leaves it as it is.
PRONOUN = re.compile(
    r"\b(he|him|his|himself|she|her|hers|herself|it|its|itself|they|them|their|theirs|themselves|there)\b"
    r"(['’](?:s|re|ve|ll|d)\b)?",
    re.I,
)
# "there" that refers to nothing: "Is there ...?", "there were", "up there".
DUMMY_THERE = re.compile(r"\bthere\s+(?:is|are|was|were|will|would|has|have|had|been|be|'s|’s)\b", re.I)
# "there" after these words points nowhere either: "Is there ...?", "up there", "back there".
THERE_AFTER = re.compile(r"\b(?:is|are|was|were|up|over|out|down|in|from|to|near|back)\s+$", re.I)
# A pronoun whose name is what is asked: "What's his name?", "What is it called?", "Who is she?".
ASKS_ITS_NAME = re.compile(
    r"\b(?:his|her|its|their)\s+(?:\w+\s+)?name\b"
    r"|(?:\b(?:is|was|are|were)|['’]s)\s+(?:it|he|she|they)\s+(?:called|named|known)\b"
    r"|\bname\s+(?:is|was|are|were)\s+(?:it|he|she|they)\b|^\W*who\s+(?:is|was|are|were)\s+(?:he|she|they)\s*\??\s*$",
    re.I,
)
# "Whose network was it that ...?": "it" after a form of "be", before "that"/"who", is a cleft.
BE_BEFORE = re.compile(r"\b(?:is|was|are|were)\s+$", re.I)
# A pronoun after a verb of saying refers to the question's own subject: "Which carrier said it had found ...?".
SAID = re.compile(
    r"\b(?:said|says|say|announced|announces|claimed|claims|thinks|thought|believes|believed|admitted|denied|"
    r"confirmed|hopes|hoped|expects|expected|told)\s+(?:that\s+)?$",
    re.I,
)

# --- The carried context: which words are worth carrying ---------------------------------------------
# Words of a question that ask about the asking rather than the topic ("What's the news from ...?",
# "Why is everyone talking about him?"), and words that date it: neither is worth carrying.
NOT_TOPIC = CALENDAR | frozenset(
    """happen happened happening happens news latest going go goes talking talk everyone anyone anybody
    someone somebody everybody lots lot thing things stuff story really actually exactly know tell told read
    heard hear want wants wanted think like worth watching big deal kind sort type way ways much many still
    ever even get gets got one ones today tonight yesterday tomorrow week weeks weekend month months year
    years season night morning afternoon evening day days time times ago last next recently currently
    right isn't aren't wasn't weren't don't doesn't didn't won't can't i'm it's there's that's what's
    whats who's let's yes no across around behind beyond near toward towards within without among upon via
    despite since though although afterwards away back already almost soon several enough including""".split()
)
# When a question is asked about: "this week", "the latest".
TIME_PHRASE = re.compile(
    r"\b(?:this|last|past)\s+(?:week|weekend|month|year)\b|\b(?:recently|latest|today|yesterday|tonight)\b", re.I
)
# A phrase the answer quotes: a title or a term ("'Fast Car'", "'natural organic reduction'").
QUOTED = re.compile(r"(?:^|(?<=[\s(]))['‘\"“]([^'’\"”]{2,40})['’\"”](?=[\s.,;:!?)]|$)")
# Subjects without a determiner, after which "did"/"will" puts a bare verb ("Did anyone drop out?").
SUBJECT_WORDS = frozenset("i you we he she it they anyone anybody someone somebody everyone people".split())
# Nouns that end like adverbs ("badly", "early").
LY_NOUNS = frozenset("family supply rally ally assembly reply anomaly monopoly butterfly belly jelly bully folly tally".split())
# "that first clone", "the chain", "those loose bolts": a description of something said before.
DESCRIPTION = re.compile(r"\b(?:that|this|those|these|the)\s+((?:[a-z][\w-]*\s+){0,2}[a-z][\w-]*)")
# "Which chain is that?", "What holiday is this?": the asked noun describes what "that" points at.
WHICH_IS_THAT = re.compile(
    r"^\W*(?:which|what)\s+((?:[a-z][\w-]*\s+){0,2}[a-z][\w-]*)\s+(?:is|was|are|were)\s+(?:that|this|those|these)\b", re.I
)
# A sentence of the answer, in which a description's antecedent is looked for.
SENTENCE = re.compile(r"[^.!?;]+(?:[.!?;]+|$)")
