"""A whole-store pass reads Chroma's next page in a thread while the caller works (assistant.store)."""

import threading

import pytest

from assistant.store import _read_ahead


def test_pages_arrive_in_order_and_whole():
    pages = [[i, i + 1] for i in range(0, 40, 2)]
    assert list(_read_ahead(iter(pages))) == pages


def test_an_error_while_reading_reaches_the_caller_after_the_pages_before_it():
    def pages():
        yield ["a"]
        yield ["b"]
        raise ConnectionError("Chroma went away")

    got = []
    with pytest.raises(ConnectionError, match="Chroma went away"):
        for page in _read_ahead(pages()):
            got.append(page)
    assert got == [["a"], ["b"]]


def test_a_caller_that_stops_early_leaves_no_reader_behind():
    read = []

    def pages():
        for i in range(1000):
            read.append(i)
            yield [i]

    before = threading.active_count()
    reader = _read_ahead(pages(), depth=2)
    assert next(reader) == [0]
    reader.close()  # the caller breaks out of its loop
    assert threading.active_count() == before
    assert len(read) <= 4  # the page handed over, the two queued, the one being offered
