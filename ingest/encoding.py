"""Bytes to text for the loaders: UTF-8 first, then a page's declared charset, then detection.

Files and pages in the wild are not all UTF-8: older sites and exported archives are Windows-1252 or
Latin-1, and a few are UTF-16 with a byte order mark. ``charset_normalizer`` guesses the rest; a
file it cannot read as text in any encoding (or one with NUL bytes and no UTF-16 mark) is binary.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

import charset_normalizer


class NotText(ValueError):
    """The bytes are not text in any encoding we can recognise; the message says why."""


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# <meta charset="x">, <meta http-equiv="Content-Type" content="text/html; charset=x"> and
# <?xml ... encoding="x"?>, looked for in the first bytes of a page as browsers do (they read 1024;
# real pages sometimes put the tag after a long <head>, hence more).
_DECLARED = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._:-]+)""", re.I)
_PRESCAN_BYTES = 16384
# The WHATWG encoding standard reads these labels as Windows-1252, and so do browsers: pages that
# say Latin-1 routinely use the curly quotes and dashes only Windows-1252 has.
_AS_WINDOWS_1252 = {"latin_1", "iso8859_1", "ascii", "cp819"}


def decode_text(data: bytes) -> str:
    """Text of a file: a BOM's encoding, else UTF-8, else the detected encoding; raises ``NotText``."""
    text = _bom_or_utf8(data, "binary file (contains NUL bytes)")
    return text if text is not None else _detect(data)


def decode_html(data: bytes) -> str:
    """Text of an HTML page: a BOM, else UTF-8, else the charset the page declares (when the bytes
    fit it), else detection; raises ``NotText`` for binary content."""
    # Valid UTF-8 first, whatever the page says: text in another encoding is almost never valid
    # UTF-8 by accident, while pages re-saved as UTF-8 often keep their old "iso-8859-1" tag.
    text = _bom_or_utf8(data, "binary content (contains NUL bytes)")
    if text is not None:
        return text
    declared = declared_charset(data)
    if declared:
        try:
            return data.decode(declared)
        except UnicodeDecodeError:
            pass  # a wrong declaration (say "utf-8" on a Windows-1252 page): detect instead
    return _detect(data)


def _bom_or_utf8(data: bytes, binary: str) -> str | None:
    """The text when a BOM names its encoding or it is valid UTF-8; None when it is neither; raises
    ``NotText`` (with ``binary`` as its message) for NUL bytes."""
    text = _decode_bom(data)
    if text is not None:
        return text
    if b"\x00" in data:
        raise NotText(binary)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def codec_name(label: str | bytes | None) -> str | None:
    """The Python codec for a charset label (from a header or a page), Latin-1 and ASCII read as
    Windows-1252 as browsers do; None for an unknown label."""
    if not label:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "ignore")
    try:
        name = codecs.lookup(label.strip().lower()).name.replace("-", "_")
    except LookupError:
        return None
    return "cp1252" if name in _AS_WINDOWS_1252 else name


def declared_charset(data: bytes) -> str | None:
    """The Python codec name of the charset a page declares in its first bytes, or None."""
    match = _DECLARED.search(data[:_PRESCAN_BYTES])
    name = codec_name(match.group(1) or match.group(2)) if match else None
    if name and (name.startswith("utf_16") or name.startswith("utf_32")):
        return None  # the page was decoded to find this ASCII text, so it is not UTF-16
    return name


def bom_encoding(data: bytes) -> str | None:
    """The encoding a byte order mark at the start of ``data`` names, or None."""
    return next((encoding for bom, encoding in _BOMS if data.startswith(bom)), None)


def _decode_bom(data: bytes) -> str | None:
    encoding = bom_encoding(data)
    if encoding is None:
        return None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise NotText(f"invalid {encoding.upper()} text after its byte order mark (offset {exc.start})") from None


def detect_text(data: bytes) -> str:
    """The text charset-normalizer reads in ``data`` (a Latin-script result as Windows-1252 when the
    bytes allow it); raises ``NotText`` when it finds none."""
    return _detect(data)


def _detect(data: bytes) -> str:
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise NotText("binary file (not text in any known encoding)")
    text = str(best)
    # charset_normalizer tells scripts apart well (Cyrillic, Greek, Arabic...) but among the Latin
    # code pages it often picks a Baltic or Central European one for plain French or Spanish text
    # ("garçon" read as "garēon"). Western news is far more often Windows-1252, so a Latin-script
    # result is read as Windows-1252 whenever the bytes are valid in it.
    if best.encoding != "cp1252" and _mostly_latin(text):
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    return text


def _mostly_latin(text: str) -> bool:
    """Whether most non-ASCII letters of ``text`` are Latin (é, ß) rather than another script."""
    letters = [c for c in text if ord(c) > 127 and c.isalpha()]
    if not letters:
        return True
    latin = sum(1 for c in letters if unicodedata.name(c, "").startswith("LATIN"))
    return latin * 2 >= len(letters)
