"""Turn files on disk (Markdown, text, HTML, JSON, JSONL) into ``Article`` records.

Loading is forgiving by design: one bad file, or one bad line in a JSONL dump, must not abort an
ingest of thousands of articles. Every problem therefore becomes a ``LoadFailure`` with a message a
person can act on; only a path that does not exist at all raises, because that is a typo in the
command line rather than bad content.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path

import yaml

from ingest.article import Article, LoadFailure, LoadResult
from ingest.dates import normalise_date, undated_warnings
from ingest.encoding import NotText, decode_text
from ingest.html import MAX_TITLE_CHARS, article_from_html, short_title
from ingest.html_meta import bylines
from ingest.reflow import reflow

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".json", ".jsonl")

__all__ = ["SUPPORTED_SUFFIXES", "article_from_json", "file_article_id", "iter_files", "load_file", "load_paths", "normalise_date"]

_MD_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FRONT_MATTER_CLOSE = ("---", "...")
_ARTICLE_KEYS = {"id", "title", "url", "published_at", "date", "published", "source", "authors", "author"}


class _Invalid(ValueError):
    """Bad content in one article; caught by the loaders and turned into a ``LoadFailure``."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


# --------------------------------------------------------------------------------------------- files


def iter_files(paths: Iterable[str | os.PathLike] | str | os.PathLike) -> list[Path]:
    """Expand files and folders into the list of files to load, in a stable order.

    Folders contribute only supported, non-hidden files (so ``.git`` or editor swap files are never
    read), while a file named explicitly is always returned: the user asked for it, so an unsupported
    type should be reported by ``load_file`` rather than silently ignored.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found: list[Path] = []
    seen: set[Path] = set()
    for given in paths:
        root = Path(given).expanduser()
        if not root.exists():
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(given))
        root = root.resolve()
        candidates = _walk(root) if root.is_dir() else [root]
        for path in candidates:
            if path not in seen:
                seen.add(path)
                found.append(path)
    return found


def _walk(folder: Path) -> list[Path]:
    """Supported files below ``folder``, skipping hidden names; symlinked folders are not followed (no loops)."""
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                files.append((Path(dirpath) / name).resolve())
    return sorted(files)


def load_paths(paths: Iterable[str | os.PathLike] | str | os.PathLike) -> LoadResult:
    """Load every file under ``paths``; raises only ``FileNotFoundError`` for a path that does not exist."""
    result = LoadResult()
    for path in iter_files(paths):
        result.extend(load_file(path))
    return result


def load_file(path: str | os.PathLike) -> LoadResult:
    """Parse one file into articles, failures and warnings; never raises for unreadable or malformed content."""
    return _load(Path(path).expanduser().resolve(), None)


def load_bytes(path: str | os.PathLike, data: bytes) -> LoadResult:
    """:func:`load_file` of content already in hand (an upload), read as the file ``path`` names
    would be (its extension picks the reader, its name the default id); nothing is read from disk."""
    return _load(Path(path), data)


def _load(path: Path, data: bytes | None) -> LoadResult:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        kind = f"'{suffix}'" if suffix else "(no file extension)"
        return _failed(path, f"unsupported file type {kind}; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    try:
        if data is None:
            data = _read_bytes(path)
        if suffix in _HTML_SUFFIXES:
            return _load_html(path, data)  # bytes: the page's own charset declaration decides
        return _LOADERS[suffix](path, _decode(data))
    except _Invalid as exc:
        return _failed(path, str(exc), exc.line)
    except Exception as exc:  # noqa: BLE001 - e.g. RecursionError on absurdly nested JSON; one file must not stop the run
        return _failed(path, f"could not parse file: {type(exc).__name__}: {exc}")


def _failed(path: Path, error: str, line: int | None = None) -> LoadResult:
    return LoadResult(failures=[LoadFailure(path=str(path), error=error, line=line)])


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        reason = f"[Errno {exc.errno}] {exc.strerror}" if exc.errno else str(exc)
        raise _Invalid(f"cannot read file: {reason}") from None


def _decode(data: bytes) -> str:
    """Text with newlines normalised: UTF-8 (fast path), else the encoding charset-normalizer finds
    (Latin-1 and Windows-1252 exports are common); binary content is refused."""
    try:
        text = decode_text(data)
    except NotText as exc:
        raise _Invalid(str(exc)) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------------------- identity


def file_article_id(path: Path, title: str) -> str:
    """The id of an article from a file that names neither an id nor a url: file name + title.

    Why not the absolute path (as before): the same file read from a moved folder, a copy, or
    through another mount would become a second article. The file name and the title survive all
    of those, while an edit of the body keeps the id (so the new version replaces the old one).
    The trade-offs: renaming the file or changing its title makes a new article (the old one goes
    with ``ingest --prune``), and two different files with the same name and the same title are
    taken for one article (reported as a duplicate id when ingested together). Hashing the content
    instead would survive renames but turn every edit into a new article; a path relative to the
    ingest root would break when the same file is reached through a different root.
    """
    slug = "-".join(re.findall(r"\w+", title.casefold()))[:80].strip("-_")
    return f"{path.name}#{slug or hashlib.sha1(title.encode('utf-8')).hexdigest()[:12]}"


def _row_id(path: Path, where: str) -> str:
    """Id of a JSON list item or JSONL row without id or url: file name + position ("#3", "#L7"),
    for the same reasons as :func:`file_article_id` (a row has no title of its own to rely on)."""
    return f"{path.name}#{where}"


# ------------------------------------------------------------------------------------ field helpers


def _scalar(value: object, name: str) -> str:
    """A metadata field as a stripped string; numbers and dates are accepted (YAML and JSON produce them)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float, date)):
        return str(value)
    raise _Invalid(f"field '{name}' must be a string, got {_type_name(value)}")


def _authors(value: object) -> tuple[str, ...]:
    """Bylines from a list of names or an "A, B" string: "By " dropped, duplicates removed."""
    if isinstance(value, (list, tuple)):
        names = [_scalar(item, "authors") for item in value]
    else:
        names = re.split(r"[,;]", _scalar(value, "authors"))
    return bylines(names)


def _type_name(value: object) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(value), type(value).__name__)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.split("\n") if line.strip()), "")


def _published(meta: Mapping) -> object:
    """The publication date as written, under any of the names in use, or None."""
    return next((meta[k] for k in ("published_at", "date", "published") if meta.get(k) is not None), None)


def _dated(article: Article, meta: Mapping, line: int | None = None, where: str = "") -> LoadResult:
    """``article``, with the warning an undated one gets (see ``ingest.dates.undated_warnings``)."""
    return LoadResult(articles=[article], warnings=undated_warnings(article, _published(meta), line, where))


def _build(meta: Mapping, text: str, path: Path, default_title: str, row_id: str = "") -> Article:
    """Assemble an ``Article`` from recognised metadata keys; shared by every format so ids and dates agree.

    The id is the article's own ``id``, else its ``url``, else ``row_id`` (a row of a JSON list or
    JSONL file), else :func:`file_article_id`.
    """
    text = text.strip()
    if not text:
        raise _Invalid("article has no text")
    url = _scalar(meta.get("url"), "url")
    authors = meta.get("authors") if meta.get("authors") is not None else meta.get("author")
    title = _scalar(meta.get("title"), "title") or default_title or path.stem
    return Article(
        id=_scalar(meta.get("id"), "id") or url or row_id or file_article_id(path, title),
        text=text,
        title=title,
        url=url,
        published_at=normalise_date(_published(meta)),
        source=_scalar(meta.get("source"), "source"),
        path=str(path),
        authors=_authors(authors),
    )


# ------------------------------------------------------------------------------------------ formats


def _load_markdown(path: Path, text: str) -> LoadResult:
    meta, body = _split_front_matter(text)
    title = ""
    if not meta.get("title"):
        title, body = _markdown_title(body)
    return _dated(_build(meta, reflow(body), path, title), meta)


def _split_front_matter(text: str, lenient: bool = False) -> tuple[dict, str]:
    """Separate YAML front matter (between leading ``---`` lines) from the body.

    ``lenient`` is for plain text, where a first line ``---`` may just be a rule: a block left open,
    or one that is no mapping of article fields (a line of prose between two rules, even one that
    reads as ``key: value``), is then no front matter and the text is returned whole. Invalid YAML is reported all the same: a block of ``key: value``
    lines with a slip in one (``title: Kyiv: the talks``) was meant as front matter, and read as
    text its lines would open the article and its date would be lost.
    """
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return {}, text
    close = next((i for i in range(1, len(lines)) if lines[i].rstrip() in _FRONT_MATTER_CLOSE), None)
    if close is None:
        if lenient:
            return {}, text
        raise _Invalid("front matter is not closed: no '---' line after the opening one", line=1)
    try:
        meta = yaml.safe_load("\n".join(lines[1:close]))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        line = mark.line + 2 if mark is not None else None  # +1 for 1-based, +1 for the opening '---'
        where = f" (line {line}, column {mark.column + 1})" if mark is not None else ""
        raise _Invalid(f"invalid YAML front matter: {problem}{where}", line=line) from None
    if meta is None:
        meta = {}
    if lenient and not (isinstance(meta, dict) and _ARTICLE_KEYS & set(meta)):
        return {}, text
    if not isinstance(meta, dict):
        raise _Invalid(f"front matter must be a mapping of keys to values, got {_type_name(meta)}", line=1)
    return meta, "\n".join(lines[close + 1 :])


def _markdown_title(body: str) -> tuple[str, str]:
    """Title from the first heading (dropped from the body when it leads it), else the first line."""
    lines = body.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    for i, line in enumerate(lines):
        match = _MD_HEADING.match(line)
        if match:
            if i == first:
                body = "\n".join(lines[:i] + lines[i + 1 :])
            return short_title(match.group(1)), body
    return short_title(_first_line(body)), body


def _load_text(path: Path, text: str) -> LoadResult:
    """A text file, with the same optional front matter as Markdown: exports and hand-saved articles
    are often plain text, and without it they had no way to carry a date, a url or a publisher."""
    meta, body = _split_front_matter(text, lenient=True)
    if _scalar(meta.get("title"), "title"):
        return _dated(_build(meta, reflow(body), path, ""), meta)
    title, body = _text_title(path, body)
    return _dated(_build(meta, body, path, title), meta)


def _text_title(path: Path, text: str) -> tuple[str, str]:
    """Title and body of plain text: the first line is the title when more follows and it is short
    enough, else the file's name. The title line stays a line of its own in the body, whatever its length."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    title = lines[0] if len(lines) > 1 and len(lines[0]) <= MAX_TITLE_CHARS else path.stem
    if lines and title == lines[0]:
        head, _, rest = text.strip().partition("\n")
        return title, f"{head}\n{reflow(rest)}"
    return title, reflow(text)


def _load_html(path: Path, data: bytes) -> LoadResult:
    result = article_from_html(data, origin=str(path))
    # a page that names no url of its own gets a file id that survives moves (see file_article_id)
    result.articles = [a if a.url else replace(a, id=file_article_id(path, a.title)) for a in result.articles]
    for article in result.articles:
        result.warnings.extend(undated_warnings(article))
    return result


def _load_json(path: Path, text: str) -> LoadResult:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Invalid(f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    if isinstance(data, dict):
        return _dated(_json_article(data, path), data)
    if not isinstance(data, list):
        raise _Invalid(f"expected a JSON object or a list of objects, got {_type_name(data)}")
    result = LoadResult()
    for index, item in enumerate(data):
        try:
            if not isinstance(item, dict):
                raise _Invalid(f"expected a JSON object, got {_type_name(item)}")
            result.extend(_dated(_json_article(item, path, _row_id(path, str(index))), item, where=f"item {index}"))
        except _Invalid as exc:
            result.failures.append(LoadFailure(path=str(path), error=f"item {index}: {exc}"))
    return result


def _load_jsonl(path: Path, text: str) -> LoadResult:
    result = LoadResult()
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise _Invalid(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
            if not isinstance(item, dict):
                raise _Invalid(f"expected a JSON object, got {_type_name(item)}")
            result.extend(_dated(_json_article(item, path, _row_id(path, f"L{number}")), item, line=number))
        except _Invalid as exc:
            result.failures.append(LoadFailure(path=str(path), error=str(exc), line=number))
    return result


def _json_article(item: dict, path: Path, row_id: str = "") -> Article:
    """One JSON record: ``text`` (or ``body``) is required and must be a string; the rest is optional."""
    text = item.get("text")
    if text is None:
        text = item.get("body")
    if text is None:
        raise _Invalid("article has no text")
    if not isinstance(text, str):
        raise _Invalid(f"field 'text' must be a string, got {_type_name(text)}")
    return _build(item, text, path, short_title(_first_line(text)), row_id)


def article_from_json(item: object, origin: str, default_id: str) -> Article:
    """One article in the JSON article format (as in ``.json``/``.jsonl`` files) from an already decoded
    value, for callers that receive articles rather than files (the HTTP API).

    ``origin`` is recorded as the article's path; ``default_id`` is its id when it has neither ``id``
    nor ``url``. Raises ``ValueError`` with a message a person can act on for bad content.
    """
    if not isinstance(item, dict):
        raise _Invalid(f"expected a JSON object, got {_type_name(item)}")
    return _json_article(item, Path(origin), default_id)


_HTML_SUFFIXES = (".html", ".htm")
# The text formats; HTML is read as bytes by _load_html.
_LOADERS: dict[str, Callable[[Path, str], LoadResult]] = {
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".txt": _load_text,
    ".json": _load_json,
    ".jsonl": _load_jsonl,
}
