"""What a question asks, read before anything is retrieved: no store, no model.

* :mod:`.condense` -- a follow-up rewritten to stand alone, given the conversation;
* :mod:`.small_talk` -- "thanks", "hi": a short reply and no search;
* :mod:`.timescope` -- "this week", "in January", "the latest" -> a ``TimeScope``;
* :mod:`.question` -- the question's weighted words, its verb, the kind of answer it wants;
* :mod:`.answer_types` -- kinds of answer (a person, a place, a number) and the names of that kind;
* :mod:`.quantities` -- the quantities a question names and whether a text states them;
* :mod:`.summary_requests` -- whether a question asks for a summary or a timeline, and of what;
* :mod:`.outlets` and :mod:`.parts` -- the outlets a question names, and the parts of a question
  that spans articles.

Imports: :mod:`assistant.answer` and :mod:`assistant.text` only. Imported by the engine and by
:mod:`assistant.answering`.
"""
