"""Loaders: every supported format, metadata fallbacks, and bad input reported as failures (never raised)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ingest.article import LoadFailure
from ingest.loaders import SUPPORTED_SUFFIXES, iter_files, load_file, load_paths, normalise_date

RTQA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "rtqa-dev"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def only_article(path: Path):
    result = load_file(path)
    assert result.failures == []
    assert len(result.articles) == 1
    return result.articles[0]


def only_failure(path: Path) -> LoadFailure:
    result = load_file(path)
    assert result.articles == []
    assert len(result.failures) == 1
    return result.failures[0]


# ------------------------------------------------------------------------------------------ markdown


def test_markdown_with_front_matter(tmp_path):
    path = write(
        tmp_path / "ferry.md",
        "---\n"
        "id: harbour-ferry\n"
        "title: Harbour ferry adds a night service\n"
        "url: https://example.org/ferry\n"
        "published_at: 2026-02-03\n"
        "authors: [A. Writer, B. Editor]\n"
        "---\n"
        "The harbour ferry will run a night service from March.\n\n"
        "Boats leave every forty minutes.\n",
    )
    article = only_article(path)
    assert article.id == "harbour-ferry"
    assert article.title == "Harbour ferry adds a night service"
    assert article.url == "https://example.org/ferry"
    assert article.published_at == "2026-02-03"
    assert article.source == ""  # no source: authors are bylines, never the publisher
    assert article.authors == ("A. Writer", "B. Editor")
    assert article.text == "The harbour ferry will run a night service from March.\n\nBoats leave every forty minutes."
    assert article.path == str(path.resolve())


def test_markdown_front_matter_source_date_alias_and_url_as_id(tmp_path):
    path = write(
        tmp_path / "a.markdown",
        "---\nurl: https://example.org/a\ndate: January 5, 2024\nsource: Test Wire\nauthors: Someone\n---\n# Heading title\n\nBody text here.\n",
    )
    article = only_article(path)
    assert article.id == "https://example.org/a"
    assert article.published_at == "2024-01-05"
    assert article.source == "Test Wire" and article.authors == ("Someone",)
    assert article.title == "Heading title"
    assert article.text == "Body text here."


def test_markdown_without_front_matter_takes_title_from_leading_heading(tmp_path):
    path = write(tmp_path / "bridge.md", "\n# Bridge reopens after repairs #\n\nThe *old* bridge reopened on Monday.\n\n## Traffic\nDelays expected.\n")
    article = only_article(path)
    assert article.title == "Bridge reopens after repairs"
    assert article.text == "The *old* bridge reopened on Monday.\n\n## Traffic\nDelays expected."
    assert article.id == "bridge.md#bridge-reopens-after-repairs"  # no id, no url: file name + title
    assert article.path == str(path.resolve())
    assert article.published_at == "" and article.url == "" and article.source == "" and article.authors == ()


def test_markdown_heading_not_first_stays_in_body(tmp_path):
    path = write(tmp_path / "x.md", "Intro paragraph first.\n\n# Later heading\n\nMore text.\n")
    article = only_article(path)
    assert article.title == "Later heading"
    assert article.text == "Intro paragraph first.\n\n# Later heading\n\nMore text."


def test_markdown_without_heading_uses_first_line_trimmed(tmp_path):
    long_line = "word " * 80  # 400 characters
    path = write(tmp_path / "plain.md", f"{long_line}\n\nSecond paragraph.\n")
    article = only_article(path)
    assert len(article.title) <= 200 and article.title.startswith("word word")
    assert article.text.startswith("word word") and article.text.endswith("Second paragraph.")


def test_markdown_bad_front_matter_is_a_failure(tmp_path):
    bad_yaml = write(tmp_path / "bad.md", "---\ntitle: [unclosed\n---\nBody.\n")
    failure = only_failure(bad_yaml)
    assert failure.error.startswith("invalid YAML front matter:")
    assert failure.path == str(bad_yaml.resolve())

    not_mapping = write(tmp_path / "list.md", "---\n- a\n- b\n---\nBody.\n")
    assert only_failure(not_mapping).error == "front matter must be a mapping of keys to values, got list"

    unclosed = write(tmp_path / "open.md", "---\ntitle: x\nBody without a closing line.\n")
    assert "not closed" in only_failure(unclosed).error


def test_markdown_with_only_front_matter_has_no_text(tmp_path):
    failure = only_failure(write(tmp_path / "empty.md", "---\ntitle: Nothing here\n---\n   \n"))
    assert failure.error == "article has no text" and failure.line is None


# ---------------------------------------------------------------------------------------------- text


def test_txt_title_from_first_line_and_full_text_kept(tmp_path):
    path = write(tmp_path / "comet.txt", "Comet exhibit opens\n\nThe science centre opens a comet exhibit.\n")
    article = only_article(path)
    assert article.title == "Comet exhibit opens"
    assert article.text == "Comet exhibit opens\n\nThe science centre opens a comet exhibit."
    assert article.id == "comet.txt#comet-exhibit-opens"


def test_txt_title_falls_back_to_stem(tmp_path):
    single = only_article(write(tmp_path / "one-liner.txt", "Just one line of news.\n"))
    assert single.title == "one-liner" and single.text == "Just one line of news."
    long_first = only_article(write(tmp_path / "long-first.txt", "x" * 201 + "\nsecond line\n"))
    assert long_first.title == "long-first"


def test_txt_front_matter_is_read_as_in_markdown(tmp_path):
    path = write(
        tmp_path / "guarantees.txt",
        "---\n"
        "title: Allies back security guarantees\n"
        "url: https://example.org/guarantees\n"
        "published_at: 2026-01-06\n"
        "source: Test Wire\n"
        "authors: A. Writer, B. Editor\n"
        "---\n"
        "Thirty countries backed the guarantees on Tuesday.\n\n"
        "Troops would follow a ceasefire.\n",
    )
    result = load_file(path)
    assert result.failures == [] and result.warnings == []  # dated: nothing to warn about
    [article] = result.articles
    assert (article.title, article.url, article.published_at) == ("Allies back security guarantees", "https://example.org/guarantees", "2026-01-06")
    assert article.source == "Test Wire" and article.authors == ("A. Writer", "B. Editor")
    assert article.id == "https://example.org/guarantees"
    assert article.text == "Thirty countries backed the guarantees on Tuesday.\n\nTroops would follow a ceasefire."


def test_txt_front_matter_without_title_keeps_the_first_line_as_title(tmp_path):
    article = only_article(write(tmp_path / "rain.txt", "---\ndate: March 2, 2026\n---\nRain record broken\n\nThe city saw 90 mm of rain.\n"))
    assert (article.title, article.published_at) == ("Rain record broken", "2026-03-02")
    assert article.text == "Rain record broken\n\nThe city saw 90 mm of rain."
    assert article.id == "rain.txt#rain-record-broken"  # as without front matter


def test_txt_that_only_begins_with_a_rule_is_plain_text(tmp_path):
    unclosed = "---\nRain record broken\n\nThe city saw 90 mm of rain.\n"
    prose = "---\nRain record broken\n---\nThe city saw 90 mm of rain.\n"  # no mapping between the rules
    colon = "---\nUpdate: rain record broken\n---\nThe city saw 90 mm of rain.\n"  # a mapping, of no article field
    for name, text in [("unclosed.txt", unclosed), ("prose.txt", prose), ("colon.txt", colon)]:
        article = only_article(write(tmp_path / name, text))
        assert article.text == text.strip() and article.published_at == ""


def test_txt_front_matter_with_invalid_yaml_is_a_failure(tmp_path):
    failure = only_failure(write(tmp_path / "talks.txt", "---\ntitle: Kyiv: the talks\npublished_at: 2026-01-06\n---\nBody.\n"))
    assert failure.error.startswith("invalid YAML front matter:") and failure.line == 2


def test_crlf_and_bom_are_normalised(tmp_path):
    path = tmp_path / "win.txt"
    path.write_bytes("\ufeffTitle line\r\n\r\nBody line.\r\n".encode())
    article = only_article(path)
    assert article.title == "Title line" and article.text == "Title line\n\nBody line."


# ---------------------------------------------------------------------------------------------- html

# Pages shaped like real news sites are tested in tests/test_html_extract.py; these check the loader's part.

PAGE = """<!DOCTYPE html>
<html><head>
  <title>Harbour ferry adds a night service | Wire</title>
  <meta property="article:published_time" content="2026-02-03T08:00:00Z">
  <meta property="og:url" content="https://example.org/ferry-og">
  <meta property="og:site_name" content="Wire">
  <meta name="author" content="A. Writer">
</head><body>
  <header><nav><a href="/">NAV-LINK</a></nav></header>
  <main><article>
    <h1>Harbour ferry adds a night service</h1>
    <p>The harbour ferry will run a night service from March, the transit board said on Tuesday, after a
       year of requests from shift workers at the container port and the hospital on the far shore.</p>
    <p>Boats will leave every forty minutes between eleven at night and three in the morning on Fridays
       and Saturdays, and every hour on the other nights of the week, starting on the first of March.</p>
  </article></main>
  <footer>FOOTER-TEXT</footer>
</body></html>
"""


def test_html_file_through_the_extractor(tmp_path):
    article = only_article(write(tmp_path / "ferry.html", PAGE))
    assert article.title == "Harbour ferry adds a night service"  # " | Wire" is the site's name
    assert article.id == article.url == "https://example.org/ferry-og"
    assert article.published_at == "2026-02-03"
    assert article.source == "Wire" and article.authors == ("A. Writer",)  # the author is not the source
    assert article.text.startswith("The harbour ferry will run a night service from March")  # the <h1> is the title
    assert "\n\nBoats will leave every forty minutes" in article.text
    assert "NAV-LINK" not in article.text and "FOOTER-TEXT" not in article.text
    assert article.path == str((tmp_path / "ferry.html").resolve())


def test_html_without_title_or_url_gets_a_file_id(tmp_path):
    # Long enough to read as an article (ingest.html.MIN_PROSE_WORDS), short enough to be its own title.
    body = "The harbour ferry will run a night service from March, the council said on Tuesday."
    path = write(tmp_path / "bare.html", f"<p>{body}</p>")
    article = only_article(path)
    assert article.title == body and article.text == body
    assert article.id.startswith("bare.html#the-harbour-ferry-will-run") and article.url == ""


def test_html_without_text_is_a_failure(tmp_path):
    path = write(tmp_path / "scripts.html", "<html><head><style>p {}</style></head><body><script>x()</script></body></html>")
    failure = only_failure(path)
    assert failure.error == "no article text found in the page" and failure.path == str(path.resolve())


def test_html_declared_windows_1252_is_decoded(tmp_path):
    path = tmp_path / "cafe.html"
    page = PAGE.replace("<head>", '<head><meta charset="windows-1252">').replace("night service from March", "night service \u2014 caf\u00e9 included \u2014 from March")
    path.write_bytes(page.encode("cp1252"))
    assert "night service \u2014 caf\u00e9 included \u2014 from March" in only_article(path).text


# ---------------------------------------------------------------------------------------- json/jsonl


def test_json_single_object(tmp_path):
    path = write(tmp_path / "one.json", json.dumps({"id": 42, "body": "A new bakery opened on Elm Street.", "authors": "C. Baker", "published_at": "2024-01-05"}))
    article = only_article(path)
    assert article.id == "42"
    assert article.text == "A new bakery opened on Elm Street."
    assert article.title == "A new bakery opened on Elm Street."  # no title: first line of the text
    assert article.source == "" and article.authors == ("C. Baker",)
    assert article.published_at == "2024-01-05"


def test_json_single_object_without_id_or_url_uses_path(tmp_path):
    path = write(tmp_path / "anon.json", json.dumps({"title": "Anon", "text": "Some text."}))
    article = only_article(path)
    assert article.id == "anon.json#anon" and article.title == "Anon"


def test_json_list_reports_bad_items_by_index(tmp_path):
    items = [
        {"id": "j1", "title": "First", "text": "First text.", "source": "Wire", "authors": ["X"]},
        {"url": "https://example.org/j2", "text": "Second text."},
        {"title": "No id or url", "text": "Third text."},
        {"title": "Missing text"},
        "not an object",
        {"text": ["not", "a", "string"]},
    ]
    path = write(tmp_path / "many.json", json.dumps(items))
    result = load_file(path)
    assert [a.id for a in result.articles] == ["j1", "https://example.org/j2", "many.json#2"]
    assert result.articles[0].source == "Wire" and result.articles[0].authors == ("X",)
    assert [(f.line, f.error) for f in result.failures] == [
        (None, "item 3: article has no text"),
        (None, "item 4: expected a JSON object, got string"),
        (None, "item 5: field 'text' must be a string, got list"),
    ]


def test_invalid_json_file(tmp_path):
    failure = only_failure(write(tmp_path / "broken.json", '{"id": "a",\n "text": "x" "title": "y"}'))
    assert failure.error == "invalid JSON: Expecting ',' delimiter (column 14)"
    assert failure.line == 2


def test_json_top_level_must_be_object_or_list(tmp_path):
    assert only_failure(write(tmp_path / "n.json", "17")).error == "expected a JSON object or a list of objects, got int"


def test_jsonl_malformed_line_is_reported_and_the_rest_load(tmp_path):
    lines = [
        json.dumps({"id": "r1", "title": "Row one", "text": "Row one text.", "published_at": None}),
        '{"id": "bad", "text": ',
        "",
        json.dumps({"url": "https://example.org/r4", "text": "Row four text.\nSecond line."}),
        json.dumps({"text": "Row five text."}),
        json.dumps({"id": "empty", "text": "   "}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": "num", "text": 12}),
    ]
    path = write(tmp_path / "rows.jsonl", "\n".join(lines) + "\n")
    result = load_file(path)
    assert [a.id for a in result.articles] == ["r1", "https://example.org/r4", "rows.jsonl#L5"]
    assert result.articles[0].published_at == ""
    assert result.articles[1].title == "Row four text."
    assert [(f.line, f.error) for f in result.failures] == [
        (2, "invalid JSON: Expecting value (column 23)"),
        (6, "article has no text"),
        (7, "expected a JSON object, got list"),
        (8, "field 'text' must be a string, got int"),
    ]
    assert all(f.path == str(path.resolve()) for f in result.failures)


# -------------------------------------------------------------------------------------------- dates


# -------------------------------------------------------------------------------------------- undated


def test_undated_txt_is_warned_about_by_file(tmp_path):
    path = write(tmp_path / "seed.txt", "Guarantees agreed\n\nThirty countries backed the guarantees.\n")
    result = load_file(path)
    assert len(result.articles) == 1
    [warning] = result.warnings
    assert (warning.path, warning.line, warning.kind) == (str(path.resolve()), None, "undated")
    assert warning.message.startswith("no published date, so it is ranked as neither new nor old")
    assert "front matter with 'published_at: YYYY-MM-DD'" in warning.message  # how to mend it, for this format
    assert warning.as_dict() == {"path": str(path.resolve()), "line": None, "warning": warning.message}


def test_undated_jsonl_row_is_warned_about_by_line(tmp_path):
    rows = [
        json.dumps({"id": "a", "published_at": "2026-01-07", "text": "A dated row."}),
        "",
        json.dumps({"id": "b", "text": "An undated row."}),
        json.dumps({"id": "c", "date": "January 5", "text": "A row whose date has no year."}),
    ]
    result = load_file(write(tmp_path / "rows.jsonl", "\n".join(rows) + "\n"))
    assert [a.id for a in result.articles] == ["a", "b", "c"]
    assert [(w.line, w.kind) for w in result.warnings] == [(3, "undated"), (4, "undated")]
    assert result.warnings[0].message.startswith("no published date")
    assert 'give it a "published_at": "YYYY-MM-DD" field' in result.warnings[0].message
    assert result.warnings[1].message.startswith("published date 'January 5' cannot be read as a date with a year")


def test_undated_json_list_item_is_named_by_index(tmp_path):
    items = [{"id": "a", "published": "2026-01-07", "text": "Dated."}, {"id": "b", "text": "Undated."}]
    result = load_file(write(tmp_path / "many.json", json.dumps(items)))
    [warning] = result.warnings
    assert warning.message.startswith("item 1: no published date") and warning.line is None


def test_dated_files_get_no_warning(tmp_path):
    md = write(tmp_path / "ferry.md", "---\npublished_at: 2026-02-03\n---\n# Ferry\n\nThe ferry runs at night.\n")
    one = write(tmp_path / "one.json", json.dumps({"id": "j", "published_at": "2026-02-03", "text": "Dated."}))
    assert load_file(md).warnings == [] and load_file(one).warnings == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.date(2024, 1, 5), "2024-01-05"),
        (dt.datetime(2024, 1, 5, 23, 30), "2024-01-05"),
        ("2024-01-05", "2024-01-05"),
        ("2024-01-05T10:00:00Z", "2024-01-05"),
        ("2024-01-05T23:00:00-05:00", "2024-01-05"),  # the date as written, not converted to UTC
        ("January 5, 2024", "2024-01-05"),
        ("Fri, 05 Jan 2024 10:00:00 GMT", "2024-01-05"),
        ("  2024-01-05  ", "2024-01-05"),
        ("January 5", ""),  # no year: unknown rather than guessed
        ("not a date", ""),
        ("", ""),
        (None, ""),
        (True, ""),
    ],
)
def test_normalise_date(value, expected):
    assert normalise_date(value) == expected


# --------------------------------------------------------------------------------------- bad files


def test_binary_file_with_nul_bytes(tmp_path):
    path = tmp_path / "blob.txt"
    path.write_bytes(b"\x00\x01\x02binary")
    failure = only_failure(path)
    assert failure.error == "binary file (contains NUL bytes)" and failure.line is None


def test_latin1_and_windows_1252_text_files_are_decoded(tmp_path):
    latin1 = tmp_path / "latin1.md"
    latin1.write_bytes("# Caf\u00e9 opens downtown\n\nThe gar\u00e7on served cr\u00e8me br\u00fbl\u00e9e on the first day.\n".encode("latin-1"))
    article = only_article(latin1)
    assert article.title == "Caf\u00e9 opens downtown"
    assert article.text == "The gar\u00e7on served cr\u00e8me br\u00fbl\u00e9e on the first day."
    cp1252 = tmp_path / "quotes.txt"
    cp1252.write_bytes("Fee rise\r\n\r\n\u201cWe are not against paying,\u201d she said \u2014 at \u20ac38 a metre.\r\n".encode("cp1252"))
    assert only_article(cp1252).text == "Fee rise\n\n\u201cWe are not against paying,\u201d she said \u2014 at \u20ac38 a metre."


def test_binary_file_without_nul_bytes_is_refused(tmp_path):
    path = tmp_path / "noise.txt"
    path.write_bytes(bytes(range(1, 256)) * 4)
    failure = only_failure(path)
    assert failure.error == "binary file (not text in any known encoding)"


def test_utf16_with_bom_is_text(tmp_path):
    path = tmp_path / "wide.txt"
    path.write_bytes("Wide title\n\nBody in UTF-16.\n".encode("utf-16"))
    assert only_article(path).text == "Wide title\n\nBody in UTF-16."


# ------------------------------------------------------------------------------------------ identity


def test_file_id_survives_moves_and_other_paths(tmp_path):
    first = write(tmp_path / "a" / "ferry.md", "# Ferry adds a night service\n\nBoats every forty minutes.\n")
    copy = write(tmp_path / "b" / "deeper" / "ferry.md", first.read_text())
    assert only_article(first).id == only_article(copy).id == "ferry.md#ferry-adds-a-night-service"
    moved = tmp_path / "moved"
    (tmp_path / "a").rename(moved)
    assert only_article(moved / "ferry.md").id == "ferry.md#ferry-adds-a-night-service"
    assert only_article(moved / "ferry.md").path == str((moved / "ferry.md").resolve())  # the path stays absolute


def test_edited_body_keeps_the_id_and_a_new_title_is_a_new_article(tmp_path):
    path = write(tmp_path / "ferry.md", "# Ferry adds a night service\n\nBoats every forty minutes.\n")
    before = only_article(path)
    write(path, "# Ferry adds a night service\n\nBoats every thirty minutes.\n")
    after = only_article(path)
    assert after.id == before.id and after.content_hash != before.content_hash
    write(path, "# Night ferry delayed\n\nBoats every thirty minutes.\n")
    assert only_article(path).id == "ferry.md#night-ferry-delayed"


def test_same_name_different_titles_are_different_articles(tmp_path):
    one = write(tmp_path / "x" / "index.md", "# Bridge reopens\n\nText one.\n")
    two = write(tmp_path / "y" / "index.md", "# School extends hours\n\nText two.\n")
    assert only_article(one).id != only_article(two).id


def test_authors_string_is_split_and_cleaned(tmp_path):
    path = write(tmp_path / "a.json", json.dumps({"title": "T", "text": "Body.", "authors": "By Ana Silva, Ben Ode; ana silva"}))
    assert only_article(path).authors == ("Ana Silva", "Ben Ode")


def test_unreadable_path_is_a_failure(tmp_path):
    folder_named_like_a_file = tmp_path / "dir.md"
    folder_named_like_a_file.mkdir()
    failure = only_failure(folder_named_like_a_file)
    assert failure.error == "cannot read file: [Errno 21] Is a directory"


def test_unsupported_suffix(tmp_path):
    pdf = write(tmp_path / "report.pdf", "%PDF-1.7")
    assert iter_files([pdf]) == [pdf.resolve()]  # named explicitly: returned, then reported
    failure = only_failure(pdf)
    assert failure.error.startswith("unsupported file type '.pdf'")
    assert only_failure(write(tmp_path / "README", "x")).error.startswith("unsupported file type (no file extension)")


# ------------------------------------------------------------------------------------------ folders


def test_missing_path_raises_file_not_found(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError) as info:
        iter_files([tmp_path, missing])
    assert info.value.filename == str(missing)
    assert str(missing) in str(info.value)


def test_folder_recursion_skips_hidden_and_unsupported(tmp_path):
    root = tmp_path / "in"
    b = write(root / "b.txt", "B title\nb")
    a = write(root / "a.md", "# A\ntext")
    nested = write(root / "sub" / "deeper" / "c.JSONL", json.dumps({"text": "c"}))
    write(root / ".hidden.md", "# hidden\ntext")
    write(root / ".git" / "notes.md", "# in a hidden folder\ntext")
    write(root / "sub" / "image.png", "not really an image")
    write(root / "sub" / "notes.pdf", "unsupported")

    files = iter_files([root, a, str(root / "sub" / ".." / "b.txt")])
    assert files == sorted([a.resolve(), b.resolve(), nested.resolve()])
    assert all(p.is_absolute() for p in files)
    assert iter_files(root) == files  # a single path is accepted too
    assert set(SUPPORTED_SUFFIXES) >= {p.suffix.lower() for p in files}


def test_load_paths_concatenates_articles_and_failures(tmp_path):
    root = tmp_path / "in"
    write(root / "good.md", "# Good\n\nGood article.")
    write(root / "rows.jsonl", '{"id": "ok", "text": "Valid row."}\n{"id": "bad", "text": \n')
    (root / "blob.txt").write_bytes(b"\x00binary")
    result = load_paths([root])
    assert sorted(a.id for a in result.articles) == ["good.md#good", "ok"]
    assert sorted((Path(f.path).name, f.line) for f in result.failures) == [("blob.txt", None), ("rows.jsonl", 2)]


# -------------------------------------------------------------------------------------- real corpus


def test_real_corpus_loads_without_failures():
    corpus = RTQA / "corpus.jsonl"
    if not corpus.exists():
        pytest.skip(f"../shared/data/rtqa-dev not present: looked for {corpus}")
    result = load_file(corpus)
    assert result.failures == []
    assert len(result.articles) == 1739
    assert len({a.id for a in result.articles}) == 1739
    assert all(a.text and a.title and a.path == str(corpus.resolve()) for a in result.articles)
    assert all(a.published_at == "" or len(a.published_at) == 10 for a in result.articles)
