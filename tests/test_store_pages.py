"""The store reads and writes Chroma a page at a time (assistant.retrieval.store): a whole-store pass reads the
next page in a thread while the caller works; a write larger than Chroma's batch size is split; a few
articles' records are read by id, the pending ones by a filter."""

import threading
from dataclasses import replace

import pytest

from assistant.retrieval.store import COMPLETE, PENDING, ArticleRecord, _read_ahead


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


def _record(i: int, status: str = COMPLETE) -> ArticleRecord:
    return ArticleRecord(id=f"a{i:05d}", content_hash=f"h{i}", status=status, title=f"Story {i}", url="",
                         published_at="2025-04-12", source="Harbour Courier", path="", chunks=1)


def test_more_records_than_chromas_batch_size_are_written_and_deleted(store):
    # A re-clustering can move every record of a large store at once: more than Chroma takes (5,461).
    count = store.manifest._client.get_max_batch_size() + 600
    records = [_record(i) for i in range(count)]
    store.write_records(records)
    assert store.count_articles() == count
    store.write_records([replace(r, cluster="a00000") for r in records])
    assert {r.cluster for r in store.records().values()} == {"a00000"}
    store.delete_articles([r.id for r in records])
    assert store.count_articles() == 0


def test_records_are_read_by_id_and_pending_ones_by_a_filter(store):
    store.write_records([_record(i) for i in range(5)] + [_record(9, PENDING)])
    got = store.records_of(["a00001", "a00003", "a00009", "never-stored", "a00001"])
    assert sorted(got) == ["a00001", "a00003", "a00009"]
    assert got["a00003"] == _record(3)
    assert list(store.pending_records()) == ["a00009"]
    assert store.complete_hashes(["a00003", "a00009"]) == {"a00003": "h3"}
