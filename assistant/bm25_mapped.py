"""The parts of a persisted BM25 index that a worker reads through memory maps instead of loading.

bm25s already maps its score matrix (``BM25.load(mmap=True)``) and can read its corpus line by line
(``JsonlCorpus``), but three things it keeps would still be parsed into every worker's own memory:
the vocabulary (a JSON dict), the corpus's line offsets (a JSON list) and, here, what a search
filter needs of each document. Written once at build time as flat arrays, they are mapped instead,
so several workers on one host share one copy of each in the page cache.
"""

from __future__ import annotations

import bisect
import json
import mmap
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
from bm25s.utils import json_functions
from bm25s.utils.corpus import JsonlCorpus, load_mmindex

VOCAB_TERMS = "vocab.terms.bin"  # the terms' UTF-8 bytes, sorted, end to end
VOCAB_OFFSETS = "vocab.offsets.npy"  # where each term starts in VOCAB_TERMS (one more: the end)
VOCAB_IDS = "vocab.ids.npy"  # each sorted term's token id in the score matrix
CORPUS_OFFSETS = "corpus.offsets.npy"  # where each line of corpus.jsonl starts
FILTER_KEYS = "filter.keys.json"  # the distinct (published_day, source) pairs
FILTER_KEY_OF_DOC = "filter.key.npy"  # each document's pair, as an index into FILTER_KEYS
DOC_IDS = "doc.ids.npy"  # each document's node id, fixed-width: a ranking by id reads no corpus line


def _map(path: Path) -> mmap.mmap | bytes:
    with open(path, "rb") as f:
        if not f.seek(0, 2):
            return b""  # mmap cannot map an empty file
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


class _SortedTerms:
    """The sorted terms as a read-only sequence of bytes, for :func:`bisect.bisect_left`."""

    def __init__(self, blob, offsets: np.ndarray):
        self.blob, self.offsets = blob, offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i: int) -> bytes:
        return self.blob[int(self.offsets[i]) : int(self.offsets[i + 1])]


class MappedVocab(Mapping):
    """A bm25s vocabulary (term -> token id) read from mapped files: a binary search per lookup
    (a question has a dozen terms) instead of a dict of every term in every worker."""

    def __init__(self, folder: Path):
        self._terms = _SortedTerms(_map(folder / VOCAB_TERMS), np.load(folder / VOCAB_OFFSETS, mmap_mode="r"))
        self._ids = np.load(folder / VOCAB_IDS, mmap_mode="r")

    @staticmethod
    def write(folder: Path, vocab: Mapping[str, int]) -> None:
        """Persist ``vocab`` (a bm25s ``vocab_dict``) in the mapped layout."""
        pairs = sorted((term.encode("utf-8"), int(i)) for term, i in vocab.items())
        offsets = np.zeros(len(pairs) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(term) for term, _ in pairs])
        (folder / VOCAB_TERMS).write_bytes(b"".join(term for term, _ in pairs))
        np.save(folder / VOCAB_OFFSETS, offsets)
        np.save(folder / VOCAB_IDS, np.asarray([i for _, i in pairs], dtype=np.int64))

    def _find(self, term: object) -> int:
        if not isinstance(term, str):
            return -1
        key = term.encode("utf-8")
        at = bisect.bisect_left(self._terms, key)
        return at if at < len(self._terms) and self._terms[at] == key else -1

    def __getitem__(self, term: str) -> int:
        at = self._find(term)
        if at < 0:
            raise KeyError(term)
        return int(self._ids[at])

    def __contains__(self, term: object) -> bool:
        return self._find(term) >= 0

    def __len__(self) -> int:
        return len(self._terms)

    def __iter__(self) -> Iterator[str]:
        return (self._terms[i].decode("utf-8") for i in range(len(self._terms)))


class MappedCorpus(JsonlCorpus):
    """bm25s's ``JsonlCorpus`` (one JSON document per line, read through mmap when retrieved) with its
    line offsets mapped from a ``.npy`` file rather than parsed from JSON into a list."""

    def __init__(self, path: Path):
        # JsonlCorpus.__init__ would parse corpus.mmindex.json; everything else is its own.
        self.path = str(path)
        self.verbosity = 0
        self.encoding = "utf-8"
        self.mmindex = np.load(path.parent / CORPUS_OFFSETS, mmap_mode="r")
        self.load()

    @staticmethod
    def write_offsets(path: Path) -> None:
        """Save the line offsets bm25s wrote beside ``path`` (its ``.mmindex.json``) as a ``.npy``."""
        np.save(path.parent / CORPUS_OFFSETS, np.asarray(load_mmindex(path), dtype=np.int64))

    def load(self):
        super().load()
        # A query reads a few dozen scattered lines: the kernel's read-ahead around each would pull
        # most of a large corpus into memory for nothing.
        if self.mmap_obj is not None and hasattr(mmap, "MADV_RANDOM"):
            self.mmap_obj.madvise(mmap.MADV_RANDOM)

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            return self._line(int(index))
        return super().__getitem__(index)  # slices, lists and arrays: line by line, through _line

    def _line(self, i: int) -> dict:
        # A slice of the map, not the library's seek-then-readline: the map's position is shared by
        # every thread answering from this index.
        count = len(self.mmindex)
        if not -count <= i < count:
            raise IndexError("corpus line out of range")
        i %= count
        start = int(self.mmindex[i])
        end = int(self.mmindex[i + 1]) if i + 1 < count else len(self.mmap_obj)
        return json_functions.loads(self.mmap_obj[start:end])

    def __iter__(self) -> Iterator[dict]:
        return (self[i] for i in range(len(self)))


class FilterKeys:
    """What a search filter reads of each document (its day and source), as one small table of the
    distinct pairs and a mapped array saying which pair each document has. A filter is asked once per
    pair, not once per document: the mask over a million documents is one array lookup."""

    def __init__(self, keys: list[tuple[int, str]], key_of_doc: np.ndarray):
        self.keys = keys
        self.key_of_doc = key_of_doc

    @staticmethod
    def write(folder: Path, docs: Iterable[dict[str, Any]]) -> None:
        index: dict[tuple[int, str], int] = {}
        of_doc = [index.setdefault((int(d.get("published_day") or 0), str(d.get("source") or "")), len(index)) for d in docs]
        (folder / FILTER_KEYS).write_text(json.dumps(list(index)), encoding="utf-8")
        np.save(folder / FILTER_KEY_OF_DOC, np.asarray(of_doc, dtype=np.int32))

    @classmethod
    def read(cls, folder: Path) -> "FilterKeys":
        keys = [(int(day), str(source)) for day, source in json.loads((folder / FILTER_KEYS).read_text(encoding="utf-8"))]
        return cls(keys, np.load(folder / FILTER_KEY_OF_DOC, mmap_mode="r"))

    def mask(self, admits) -> np.ndarray:
        """1.0 for each document whose metadata ``admits`` (a predicate on a metadata dict) passes."""
        admitted = np.asarray([float(admits({"published_day": d, "source": s})) for d, s in self.keys], dtype=np.float32)
        return admitted[self.key_of_doc] if len(admitted) else np.zeros(len(self.key_of_doc), dtype=np.float32)


def write_doc_ids(folder: Path, ids: list[str]) -> None:
    """Save each document's node id, in corpus order, as one fixed-width array."""
    np.save(folder / DOC_IDS, np.asarray(ids, dtype=f"<U{max((len(i) for i in ids), default=1) or 1}"))


def read_doc_ids(folder: Path) -> np.ndarray:
    return np.load(folder / DOC_IDS, mmap_mode="r")
