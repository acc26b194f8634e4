"""Turning retrieved chunks into an answer whose every claim carries a checked ``[n]`` citation, or a
decline when the sources do not answer.

* :mod:`.extractive` -- the embedded default: judges the retrieved sentences and quotes the ones
  that answer (no LLM);
* :mod:`.generative` -- the LLM answerer (``NEWSDESK_LLM``), every citation checked against its
  source; :mod:`.llm` builds the LLM component, :mod:`.prompts` reads ``prompts/*.md``;
* :mod:`.multipart` -- questions that span articles: one judgement per part, one answer;
* :mod:`.verdicts` -- yes/no answers (summaries and timelines are the extractive answerer's);
* :mod:`.citations` -- what it means for a source to support a sentence;
  :mod:`.injection` -- sentences that address the assistant instead of reporting news.

Imports: :mod:`assistant.answer`, :mod:`assistant.settings`, :mod:`assistant.text` and
:mod:`assistant.understanding`. Imported by the engine (and the evaluator, which scores citations
with :mod:`.citations`).
"""
