"""Turn files on disk (Markdown, text, HTML, JSON, JSONL) into ``Article`` records.

Loading is forgiving by design: one bad file, or one bad line in a JSONL dump, must not abort an
ingest of thousands of articles. Every problem therefore becomes a ``LoadFailure`` with a message a
person can act on; only a path that does not exist at all raises, because that is a typo in the
command line rather than bad content.
"""

from __future__ import annotations

import errno
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from pathlib import Path

import yaml
from dateutil import parser as date_parser
from selectolax.lexbor import LexborHTMLParser, LexborNode

from ingest.article import Article, LoadFailure, LoadResult

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".json", ".jsonl")

MAX_TITLE_CHARS = 200

# Elements that never hold article prose: page chrome, code, embedded media, forms.
_HTML_DROP = frozenset(
    {"script", "style", "noscript", "nav", "header", "footer", "aside", "form", "svg", "iframe", "template"}
)
# Elements whose boundaries end a paragraph; everything else (a, b, em, span, ...) is inline.
_HTML_BLOCK = frozenset(
    {
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "div", "blockquote", "pre", "br", "tr",
        "article", "main", "section", "ul", "ol", "dl", "dt", "dd", "table", "figure", "figcaption",
        "hr", "address", "details", "summary", "body",
    }
)  # fmt: skip
_HTML_CELL = frozenset({"td", "th"})
_MD_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FRONT_MATTER_CLOSE = ("---", "...")


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
        one = load_file(path)
        result.articles.extend(one.articles)
        result.failures.extend(one.failures)
    return result


def load_file(path: str | os.PathLike) -> LoadResult:
    """Parse one file into articles and failures; never raises for unreadable or malformed content."""
    path = Path(path).expanduser().resolve()
    suffix = path.suffix.lower()
    loader = _LOADERS.get(suffix)
    if loader is None:
        kind = f"'{suffix}'" if suffix else "(no file extension)"
        return _failed(path, f"unsupported file type {kind}; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    try:
        return loader(path, _read_text(path))
    except _Invalid as exc:
        return _failed(path, str(exc), exc.line)
    except Exception as exc:  # noqa: BLE001 - e.g. RecursionError on absurdly nested JSON; one file must not stop the run
        return _failed(path, f"could not parse file: {type(exc).__name__}: {exc}")


def _failed(path: Path, error: str, line: int | None = None) -> LoadResult:
    return LoadResult(failures=[LoadFailure(path=str(path), error=error, line=line)])


def _read_text(path: Path) -> str:
    """Read UTF-8 text with newlines normalised; binary or non-UTF-8 files are rejected, not guessed at."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = f"[Errno {exc.errno}] {exc.strerror}" if exc.errno else str(exc)
        raise _Invalid(f"cannot read file: {reason}") from None
    if b"\x00" in data:
        raise _Invalid("binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _Invalid(f"binary file (not UTF-8 text: invalid byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ------------------------------------------------------------------------------------ field helpers


def normalise_date(value: object) -> str:
    """Best-effort ``YYYY-MM-DD`` for a publication date, or "" when it cannot be known.

    Dates only feed filtering and display, so an unparseable value degrades to "unknown" instead of
    failing the article. A value without a year (e.g. "January 5") is treated as unknown rather than
    guessed. Timestamps with an offset keep the calendar date as written (no conversion to UTC).
    """
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if not text:
        return ""
    try:
        parsed = date_parser.parse(text, default=datetime(1, 1, 1))
    except (ValueError, OverflowError, TypeError):
        return ""
    return "" if parsed.year == 1 else parsed.date().isoformat()


def _scalar(value: object, name: str) -> str:
    """A metadata field as a stripped string; numbers and dates are accepted (YAML and JSON produce them)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (int, float, date)):
        return str(value)
    raise _Invalid(f"field '{name}' must be a string, got {_type_name(value)}")


def _authors(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(name for name in (_scalar(item, "authors") for item in value) if name)
    return _scalar(value, "authors")


def _type_name(value: object) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(value), type(value).__name__)


def _short_title(line: str) -> str:
    """Cut a title candidate to ``MAX_TITLE_CHARS``, at a word boundary when one is reasonably close."""
    line = " ".join(line.split())
    if len(line) <= MAX_TITLE_CHARS:
        return line
    cut = line[:MAX_TITLE_CHARS]
    space = cut.rfind(" ")
    return cut[:space] if space >= MAX_TITLE_CHARS // 2 else cut


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.split("\n") if line.strip()), "")


def _build(meta: Mapping, text: str, path: Path, default_id: str, default_title: str) -> Article:
    """Assemble an ``Article`` from recognised metadata keys; shared by every format so ids and dates agree."""
    text = text.strip()
    if not text:
        raise _Invalid("article has no text")
    url = _scalar(meta.get("url"), "url")
    published = next((meta[k] for k in ("published_at", "date", "published") if meta.get(k) is not None), None)
    authors = _authors(meta.get("authors"))
    return Article(
        id=_scalar(meta.get("id"), "id") or url or default_id,
        text=text,
        title=_scalar(meta.get("title"), "title") or default_title or path.stem,
        url=url,
        published_at=normalise_date(published),
        source=_scalar(meta.get("source"), "source") or authors,
        path=str(path),
    )


# ------------------------------------------------------------------------------------------ formats


def _load_markdown(path: Path, text: str) -> LoadResult:
    meta, body = _split_front_matter(text)
    title = ""
    if not meta.get("title"):
        title, body = _markdown_title(body)
    return LoadResult(articles=[_build(meta, body, path, str(path), title)])


def _split_front_matter(text: str) -> tuple[dict, str]:
    """Separate YAML front matter (between leading ``---`` lines) from the Markdown body."""
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        return {}, text
    close = next((i for i in range(1, len(lines)) if lines[i].rstrip() in _FRONT_MATTER_CLOSE), None)
    if close is None:
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
            return _short_title(match.group(1)), body
    return _short_title(_first_line(body)), body


def _load_text(path: Path, text: str) -> LoadResult:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    title = lines[0] if len(lines) > 1 and len(lines[0]) <= MAX_TITLE_CHARS else path.stem
    return LoadResult(articles=[_build({}, text, path, str(path), title)])


def _load_html(path: Path, text: str) -> LoadResult:
    tree = LexborHTMLParser(text)
    meta = {
        "url": _html_meta(tree, 'meta[property="og:url"]', "content") or _html_meta(tree, 'link[rel="canonical"]', "href"),
        "published_at": _html_meta(tree, 'meta[property="article:published_time"]', "content")
        or _html_meta(tree, 'meta[name="date"]', "content")
        or _html_meta(tree, "time[datetime]", "datetime"),
        "source": _html_meta(tree, 'meta[property="og:site_name"]', "content"),
        "authors": _html_meta(tree, 'meta[name="author"]', "content"),
    }
    title = next(
        (t for t in (_html_text(tree, "title"), _html_meta(tree, 'meta[property="og:title"]', "content"), _html_text(tree, "h1")) if t),
        "",
    )
    body = ""
    for selector in ("article", "main", "body"):
        node = tree.css_first(selector)
        body = _html_readable(node) if node is not None else ""
        if body:
            break
    return LoadResult(articles=[_build(meta, body, path, str(path), _short_title(title))])


def _html_meta(tree: LexborHTMLParser, selector: str, attribute: str) -> str:
    node = tree.css_first(selector)
    return ((node.attributes.get(attribute) or "") if node is not None else "").strip()


def _html_text(tree: LexborHTMLParser, selector: str) -> str:
    node = tree.css_first(selector)
    return " ".join(node.text().split()) if node is not None else ""


def _html_readable(root: LexborNode) -> str:
    """Visible prose under ``root`` as paragraphs separated by blank lines, page chrome left out.

    An explicit stack instead of recursion: real-world pages nest deeply enough to hit Python's limit.
    """
    paragraphs: list[str] = []
    pieces: list[str] = []

    def end_paragraph() -> None:
        paragraph = " ".join("".join(pieces).split())
        if paragraph:
            paragraphs.append(paragraph)
        pieces.clear()

    stack: list[tuple[LexborNode, bool]] = [(root, True)]
    while stack:
        node, entering = stack.pop()
        if not entering:  # leaving a block (ends the paragraph) or a table cell (separates cells)
            if node.tag in _HTML_BLOCK:
                end_paragraph()
            else:
                pieces.append(" ")
            continue
        if node.is_text_node:
            pieces.append(node.text_content or "")
            continue
        if not node.is_element_node or node.tag in _HTML_DROP:
            continue
        if (node.attributes.get("role") or "").strip().lower() == "navigation":
            continue
        if node.tag in _HTML_BLOCK:
            end_paragraph()
            stack.append((node, False))
        elif node.tag in _HTML_CELL:
            pieces.append(" ")
            stack.append((node, False))
        stack.extend((child, True) for child in reversed(list(node.iter(include_text=True))))
    end_paragraph()
    return "\n\n".join(paragraphs)


def _load_json(path: Path, text: str) -> LoadResult:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Invalid(f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    if isinstance(data, dict):
        return LoadResult(articles=[_json_article(data, path, str(path))])
    if not isinstance(data, list):
        raise _Invalid(f"expected a JSON object or a list of objects, got {_type_name(data)}")
    result = LoadResult()
    for index, item in enumerate(data):
        try:
            if not isinstance(item, dict):
                raise _Invalid(f"expected a JSON object, got {_type_name(item)}")
            result.articles.append(_json_article(item, path, f"{path}#{index}"))
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
            result.articles.append(_json_article(item, path, f"{path}#L{number}"))
        except _Invalid as exc:
            result.failures.append(LoadFailure(path=str(path), error=str(exc), line=number))
    return result


def _json_article(item: dict, path: Path, default_id: str) -> Article:
    """One JSON record: ``text`` (or ``body``) is required and must be a string; the rest is optional."""
    text = item.get("text")
    if text is None:
        text = item.get("body")
    if text is None:
        raise _Invalid("article has no text")
    if not isinstance(text, str):
        raise _Invalid(f"field 'text' must be a string, got {_type_name(text)}")
    return _build(item, text, path, default_id, _short_title(_first_line(text)))


def article_from_json(item: object, origin: str, default_id: str) -> Article:
    """One article in the JSON article format (as in ``.json``/``.jsonl`` files) from an already decoded
    value, for callers that receive articles rather than files (the HTTP API).

    ``origin`` is recorded as the article's path; ``default_id`` is its id when it has neither ``id``
    nor ``url``. Raises ``ValueError`` with a message a person can act on for bad content.
    """
    if not isinstance(item, dict):
        raise _Invalid(f"expected a JSON object, got {_type_name(item)}")
    return _json_article(item, Path(origin), default_id)


_LOADERS: dict[str, Callable[[Path, str], LoadResult]] = {
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".txt": _load_text,
    ".html": _load_html,
    ".htm": _load_html,
    ".json": _load_json,
    ".jsonl": _load_jsonl,
}
