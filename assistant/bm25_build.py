"""Building a store's BM25 indexes in bounded memory, streamed from Chroma page by page.

llama-index's ``BM25Retriever.from_defaults`` takes every node in memory, keeps a metadata dict of
each, and bm25s's ``tokenize`` returns the corpus as lists of Python ints: at a million chunks that
passed 19.6 GB before the index was scored (``bench/scale``). Here a chunk is read, its corpus line
written and its text tokenized, then dropped: what stays is its token ids in one flat ``int32`` array,
its node id and its article. bm25s then scores the ids (``BM25.index`` over token ids) as it always
does, and the files written are the ones ``BM25Retriever.persist`` writes, so the library (and
:func:`assistant.bm25.load_bm25`) reads them as its own.

What is indexed is what the library indexes: a chunk's content as embedded (its visible metadata,
then its text), tokenized by bm25s's tokenizer with the English stemmer and stop words. An article is
its first chunk's metadata once and the texts of all its chunks, as ``assistant.bm25`` joined them;
its corpus line carries that metadata and no text, as its ranking is read by id.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.store import ArticleStore

TOKEN_PATTERN = r"(?u)\b\w\w+\b"  # the library's default token pattern
LANGUAGE = "english"  # of the stop words and the stemmer: the analyser every keyword index shares
PAGE = 2000  # chunks tokenized together
Run = tuple[int, int]  # a slice of the flat token array


class TokenRuns(Sequence):
    """Documents as runs of token ids in one flat array: document i is the concatenation of its runs.
    Items are lists, as bm25s's scorer reads them, made only when asked."""

    def __init__(self, tokens: array, runs: list[list[Run]]):
        self.tokens, self.runs = tokens, runs

    def __len__(self) -> int:
        return len(self.runs)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        out: list[int] = []
        for start, end in self.runs[i]:
            out.extend(self.tokens[start:end])
        return out

    def __iter__(self) -> Iterator[list[int]]:
        return (self[i] for i in range(len(self)))


@dataclass
class _Article:
    position: int  # of the chunk whose metadata it carries (its first)
    line: dict  # that chunk's corpus line, as the article's (id and text replaced)
    header: Run  # that chunk's metadata tokens
    bodies: list[Run] = field(default_factory=list)  # every chunk's text tokens


class StreamedCorpus:
    """One pass over the store: chunk corpus lines written to a file, token ids kept compactly."""

    def __init__(self) -> None:
        import Stemmer
        from bm25s.tokenization import Tokenizer

        self.tokenizer = Tokenizer(lower=True, splitter=TOKEN_PATTERN, stopwords=LANGUAGE, stemmer=Stemmer.Stemmer(LANGUAGE))
        self.tokens = array("i")
        self.chunk_runs: list[list[Run]] = []
        self.chunk_ids: list[str] = []
        self.articles: dict[str, _Article] = {}
        self.newest_day = 0

    def read(self, store: ArticleStore, chunk_corpus: Path) -> "StreamedCorpus":
        with chunk_corpus.open("wb") as out:
            page: list = []
            for item in store.iter_chunks():
                page.append(item)
                if len(page) >= PAGE:
                    self._take(page, out)
                    page = []
            if page:
                self._take(page, out)
        return self

    def _take(self, page: list, out) -> None:
        import orjson
        from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

        nodes = [metadata_dict_to_node(meta, text=text or "") for _id, text, meta in page]
        headers, bodies = headers_and_bodies(nodes)
        ids = self.tokenizer.tokenize(headers + bodies, update_vocab=True, return_as="ids", show_progress=False)
        for i, node in enumerate(nodes):
            header, body = self._run(ids[i]), self._run(ids[len(nodes) + i])
            line = node_to_metadata_dict(node) | {"node_id": node.node_id}
            out.write(orjson.dumps(line) + b"\n")
            self.chunk_runs.append([header, body])
            self.chunk_ids.append(node.node_id)
            meta = node.metadata
            self.newest_day = max(self.newest_day, int(meta.get("published_day") or 0))
            article_id = str(meta.get("article_id", node.node_id))
            position = int(meta.get("position", 0) or 0)
            article = self.articles.get(article_id)
            if article is None or position < article.position:
                bodies_so_far = article.bodies if article is not None else []
                article = self.articles[article_id] = _Article(position, _article_line(node, article_id), header, bodies_so_far)
            article.bodies.append(body)

    def _run(self, ids: list[int]) -> Run:
        start = len(self.tokens)
        self.tokens.extend(ids)
        return start, len(self.tokens)

    @property
    def vocab(self) -> dict[str, int]:
        return self.tokenizer.get_vocab_dict()


def headers_and_bodies(nodes: list) -> tuple[list[str], list[str]]:
    """Each node's content as embedded, split into its metadata header and its text. The library's
    template puts the metadata before the text, so tokens never cross the two."""
    from llama_index.core.schema import MetadataMode

    headers, bodies = [], []
    for node in nodes:
        embedded = node.get_content(metadata_mode=MetadataMode.EMBED)
        split = len(embedded) - len(node.text) if node.text and embedded.endswith(node.text) else len(embedded)
        headers.append(embedded[:split])
        bodies.append(embedded[split:])
    return headers, bodies


def _article_line(node, article_id: str) -> dict:
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores.utils import node_to_metadata_dict

    article = TextNode(
        id_=article_id,
        text="",
        metadata=dict(node.metadata),
        excluded_embed_metadata_keys=list(node.excluded_embed_metadata_keys),
        excluded_llm_metadata_keys=list(node.excluded_llm_metadata_keys),
    )
    return node_to_metadata_dict(article) | {"node_id": article_id}


def write_part(folder: Path, runs: TokenRuns, vocab: dict[str, int], corpus: Path, top_k: int):
    """Score ``runs`` with bm25s and save the index as ``BM25Retriever.persist`` would, with ``corpus``
    (a JSONL file of corpus lines, one per document in order) moved in as its corpus."""
    import bm25s
    from bm25s.utils.corpus import find_newline_positions, save_mmindex

    from bm25s.tokenization import Tokenized

    bm25 = bm25s.BM25()
    bm25.index(Tokenized(ids=runs, vocab=dict(vocab)), show_progress=False)
    folder.mkdir(parents=True, exist_ok=True)
    bm25.save(str(folder), corpus=None, show_progress=False)
    target = folder / "corpus.jsonl"
    corpus.replace(target)
    save_mmindex(find_newline_positions(target, show_progress=False), path=target)
    persist_args = {"similarity_top_k": min(top_k, len(runs)), "verbose": False, "corpus_weight_mask": None}
    (folder / "retriever.json").write_text(json.dumps(persist_args, indent=2), encoding="utf-8")
    return bm25


def corpus_lines(path: Path) -> Iterator[dict]:
    """The corpus lines of a written part, one at a time."""
    import orjson

    with path.open("rb") as f:
        for line in f:
            yield orjson.loads(line)


def write_articles_corpus(streamed: StreamedCorpus, path: Path) -> tuple[TokenRuns, list[str]]:
    """The article index's documents (token runs) and node ids, its corpus written to ``path``."""
    import orjson

    runs: list[list[Run]] = []
    ids: list[str] = []
    with path.open("wb") as out:
        for article_id, article in streamed.articles.items():
            out.write(orjson.dumps(article.line) + b"\n")
            runs.append([article.header, *article.bodies])
            ids.append(article_id)
    return TokenRuns(streamed.tokens, runs), ids
