"""Hard-wrapped Markdown and text files are read as whole sentences (the answerer takes a line break
for a sentence's end), with structure, titles and code left as they are."""

from __future__ import annotations

from ingest.loaders import load_paths
from ingest.reflow import reflow
from tests.conftest import write

WRAPPED = """# Lighthouse keeper's cottage opens as a museum

The cottage beside the Gannet Point lighthouse will open as a museum on
Saturday, the heritage trust said, after a restoration that took three years
and cost $1.2 million. Visitors can climb the tower on weekends.
Opening hours
The museum is open from 10:00 to 16:00, said Mira Okafor, who leads the
trust's volunteers.

- Entry is free for children under twelve, and for members of the
  trust.
- Parking is by the harbour.
"""


def test_wrapped_lines_are_joined_and_structure_kept():
    text = reflow(WRAPPED)
    assert (
        "The cottage beside the Gannet Point lighthouse will open as a museum on Saturday, the heritage trust "
        "said, after a restoration that took three years and cost $1.2 million. Visitors can climb" in text
    )
    assert "\nOpening hours\n" in text, "a short line without punctuation is a subheading"
    assert "- Entry is free for children under twelve, and for members of the trust.\n- Parking" in text
    assert text.startswith("# Lighthouse keeper's cottage opens as a museum\n\n")
    code = "```\nlong code line without any punctuation at its end at all\nnext\n```"
    assert reflow(code) == code
    unwrapped = "One paragraph a line, as most files are.\nThe next one.\n"
    assert reflow(unwrapped) == unwrapped


def test_markdown_and_text_files_are_reflowed(tmp_path):
    write(tmp_path / "cottage.md", WRAPPED)
    write(tmp_path / "cottage.txt", WRAPPED.replace("# ", "", 1))
    loaded = load_paths([tmp_path])
    assert loaded.failures == []
    by_suffix = {a.path.rsplit(".", 1)[1]: a for a in loaded.articles}
    assert by_suffix["md"].title == by_suffix["txt"].title == "Lighthouse keeper's cottage opens as a museum"
    for article in by_suffix.values():
        assert "museum on Saturday, the heritage trust said" in article.text


def test_a_wrapped_article_is_answered(tmp_path, ingester, engine):
    write(tmp_path / "articles" / "cottage.md", WRAPPED)
    assert ingester.ingest_paths([tmp_path / "articles"]).failed == []
    answer = engine.ask("How much did the restoration of the Gannet Point lighthouse cottage cost?")
    assert not answer.declined and "$1.2 million" in answer.answer
    who = engine.ask("Who leads the trust's volunteers at the lighthouse museum?")
    assert not who.declined and "Mira Okafor" in who.answer


def test_an_empty_text_file_is_named_as_having_no_text(tmp_path):
    write(tmp_path / "blank.txt", "  \n\n ")
    loaded = load_paths([tmp_path])
    assert loaded.articles == [] and "no text" in loaded.failures[0].error
