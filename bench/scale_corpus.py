"""The stores of bench/scale: real dev-corpus chunks and vectors, reused with variation to reach a size.

Method (printed with every report, see :data:`METHOD`):

* Every store holds real chunks of the source store (the dev corpus as Newsdesk ingested it). The gold
  articles of the dev questions are always in; below the source's size (10k chunks < ~20k) the other
  originals are a seeded random sample, whole articles at a time.
* Above it, copy ``k`` of an original article gets the id ``<orig>~k`` (chunk ids ``<orig>~k::<pos>``),
  its chunks' texts varied by :func:`vary_text` (a share of the words replaced by words drawn from
  the corpus, frequency-weighted: a copy reads like a re-edited story, BM25 scores it differently)
  and its vectors the real ones plus Gaussian noise, renormalised (:func:`noisy_vectors`). Title,
  date, URL and publisher stay the original's. Copies are distractors: a copy never counts as gold.
* The noise's sigma is chosen so a copy's vector is as close to its original as the embedder puts the
  varied text: ``calibrate_sigma`` embeds a sample of varied chunks and measures their mean cosine
  ``c`` to the stored vectors; isotropic noise of per-dimension sigma gives cos ~ 1/sqrt(1 + d sigma^2),
  so sigma = sqrt((1/c^2 - 1) / d).
* Copies keep their originals' syndication structure per generation (cluster ``<cluster>~k``), and
  their manifest records (``ArticleStore.write_records``) the originals' fields under the new id; the
  version stamp is bumped once at the end, so the engine sees a normal store.
"""

from __future__ import annotations

import json
import random
import re
import time
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

import numpy as np

WORD = re.compile(r"([A-Za-z][A-Za-z'\-]+)")  # a capturing split: words land on the odd indices
SWAP_SHARE = 0.15  # share of a copy's words replaced

METHOD = (
    "Originals: real chunks and vectors of the source store; the dev questions' gold articles always in, "
    "other originals a seeded sample (whole articles) below the source's size. Copies: article '<orig>~k', "
    f"chunks '<orig>~k::<pos>'; {int(SWAP_SHARE * 100)} % of each chunk's words replaced by corpus words "
    "(frequency-weighted, capitalisation kept); vector = real vector + N(0, sigma^2) per dimension, "
    "renormalised, sigma calibrated so the mean cosine copy/original matches the embedder's cosine between a "
    "varied text and its original (see 'sigma'); title, date, URL, publisher kept; clusters per copy "
    "generation ('<cluster>~k'). A copy never counts as gold."
)


@dataclass
class SourceArticle:
    """One article of the source store: its manifest record and its chunks, in position order."""

    record: object  # assistant.retrieval.store.ArticleRecord
    ids: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    metadatas: list[dict] = field(default_factory=list)
    vectors: np.ndarray | None = None  # (chunks, d) float32, unit length

    @property
    def chunks(self) -> int:
        return len(self.ids)


@dataclass
class Source:
    articles: dict[str, SourceArticle]
    word_pool: list[str]  # every word occurrence of a sample of chunks: drawing from it is frequency-weighted
    dim: int

    @property
    def chunks(self) -> int:
        return sum(a.chunks for a in self.articles.values())


def read_source(store, page: int = 2000) -> Source:
    """Every complete article of ``store`` (an ArticleStore, read only) with its chunks and vectors."""
    records = {r.id: r for r in store.complete_records()}
    articles = {article_id: SourceArticle(record) for article_id, record in records.items()}
    parts: dict[str, list[tuple[int, str, str, dict, list]]] = {}
    offset = 0
    while True:
        got = store.chunks.get(include=["documents", "metadatas", "embeddings"], limit=page, offset=offset)
        if not got["ids"]:
            break
        for chunk_id, doc, meta, vec in zip(got["ids"], got["documents"], got["metadatas"], got["embeddings"]):
            if meta.get("article_id") in articles:
                parts.setdefault(meta["article_id"], []).append((int(meta.get("position", 0)), chunk_id, doc, meta, vec))
        offset += len(got["ids"])
    for article_id, chunks in parts.items():
        chunks.sort(key=lambda c: c[0])
        article = articles[article_id]
        article.ids = [c[1] for c in chunks]
        article.documents = [c[2] or "" for c in chunks]
        article.metadatas = [c[3] for c in chunks]
        article.vectors = np.asarray([c[4] for c in chunks], dtype=np.float32)
    articles = {k: a for k, a in articles.items() if a.ids}  # a record without chunks is nothing to copy
    rng = random.Random(7)
    sample = rng.sample(sorted(articles), min(400, len(articles)))
    pool = [w for article_id in sample for doc in articles[article_id].documents for w in WORD.findall(doc)]
    dim = next(iter(articles.values())).vectors.shape[1]
    return Source(articles, pool, dim)


def _rng(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("|".join(map(str, key)).encode()))


def vary_text(text: str, pool: list[str], rng: np.random.Generator, share: float = SWAP_SHARE) -> str:
    """``text`` with ``share`` of its words replaced by words drawn from ``pool`` (capitalised where the
    replaced word was); spacing and punctuation untouched."""
    parts = WORD.split(text)
    n_words = len(parts) // 2
    if n_words == 0 or not pool:
        return text
    picks = rng.choice(n_words, size=max(1, int(round(n_words * share))), replace=False)
    words = rng.integers(0, len(pool), size=len(picks))
    for pick, word in zip(picks, words):
        index = 2 * int(pick) + 1
        new = pool[int(word)]
        parts[index] = new[:1].upper() + new[1:] if parts[index][:1].isupper() else new.lower()
    return "".join(parts)


def noisy_vectors(vectors: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """``vectors`` plus N(0, sigma^2) per dimension, each renormalised to unit length."""
    out = vectors + rng.normal(0.0, sigma, size=vectors.shape).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def sigma_for_cosine(cosine: float, dim: int) -> float:
    """The per-dimension sigma whose isotropic noise leaves a unit vector at ``cosine`` to itself (on average)."""
    cosine = min(max(cosine, 0.05), 0.9999)
    return float(np.sqrt((1.0 / cosine**2 - 1.0) / dim))


def calibrate_sigma(source: Source, embed_model, sample: int = 64) -> dict:
    """Embed ``sample`` varied chunks (as indexed: title and date included) and measure their mean
    cosine to the stored vectors of their originals; the sigma that gives copies that cosine."""
    from llama_index.core.schema import MetadataMode
    from llama_index.core.vector_stores.utils import metadata_dict_to_node

    rng = random.Random(11)
    picked = [(a, i) for a in source.articles.values() for i in range(a.chunks)]
    picked = rng.sample(picked, min(sample, len(picked)))
    texts = []
    for article, i in picked:
        varied = vary_text(article.documents[i], source.word_pool, _rng(article.ids[i], "calibrate"))
        node = metadata_dict_to_node(article.metadatas[i], text=varied)
        texts.append(node.get_content(metadata_mode=MetadataMode.EMBED))
    got = np.asarray(embed_model.get_text_embedding_batch(texts), dtype=np.float32)
    got /= np.linalg.norm(got, axis=1, keepdims=True)
    stored = np.stack([article.vectors[i] for article, i in picked])
    cosine = float(np.mean(np.sum(got * stored, axis=1)))
    return {"sample_chunks": len(picked), "embedder_cosine_varied_to_original": round(cosine, 4),
            "sigma": round(sigma_for_cosine(cosine, source.dim), 5)}


# --- planning a store of a size ---------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    originals: list[str]  # original article ids in the store
    copies: list[tuple[str, int]]  # (original id, k) of every copy, k >= 1
    chunks: int


def plan(source: Source, size: int, gold: set[str], seed: int = 3) -> Plan:
    """Which originals and copies make a store of about ``size`` chunks (whole articles: it stops at
    the first article that reaches the size). Gold articles come first, the rest in a seeded order."""
    rest = sorted(set(source.articles) - gold)
    random.Random(seed).shuffle(rest)
    order = sorted(gold & set(source.articles)) + rest
    originals: list[str] = []
    total = 0
    for article_id in order:
        if total >= size:
            break
        originals.append(article_id)
        total += source.articles[article_id].chunks
    copies: list[tuple[str, int]] = []
    k = 0
    while total < size:
        k += 1
        for article_id in order:
            if total >= size:
                break
            copies.append((article_id, k))
            total += source.articles[article_id].chunks
    return Plan(originals, copies, total)


def copy_id(article_id: str, k: int) -> str:
    return f"{article_id}~{k}"


def _copy_metadata(meta: dict, article_id: str, new_id: str) -> dict:
    """A chunk's Chroma metadata under the copy's article id, in the top-level keys and in the node
    llama-index serialised (its own id, its source article and neighbours are all ``<article>...``)."""
    out = dict(meta)
    for key in ("article_id", "doc_id", "document_id", "ref_doc_id"):
        if out.get(key) == article_id:
            out[key] = new_id
    if isinstance(out.get("_node_content"), str):
        out["_node_content"] = out["_node_content"].replace(f'"{article_id}', f'"{new_id}')
    return out


@dataclass
class Batch:
    ids: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    metadatas: list[dict] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    records: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


def batches(source: Source, chosen: Plan, sigma: float, batch_size: int) -> Iterator[Batch]:
    """The planned store's chunks and manifest records, ``batch_size`` chunks or so at a time (whole
    articles per batch, so an article's record goes with its chunks)."""
    batch = Batch()
    items = [(a, 0) for a in chosen.originals] + list(chosen.copies)
    for article_id, k in items:
        article = source.articles[article_id]
        if k == 0:
            batch.ids += article.ids
            batch.documents += article.documents
            batch.metadatas += article.metadatas
            batch.vectors.append(article.vectors)
            batch.records.append(article.record)
        else:
            new_id = copy_id(article_id, k)
            rng = _rng(article_id, k)
            batch.ids += [f"{new_id}::{m.get('position', i)}" for i, m in enumerate(article.metadatas)]
            batch.documents += [vary_text(d, source.word_pool, rng) for d in article.documents]
            batch.metadatas += [_copy_metadata(m, article_id, new_id) for m in article.metadatas]
            batch.vectors.append(noisy_vectors(article.vectors, sigma, rng))
            record = article.record
            batch.records.append(
                replace(record, id=new_id, cluster=f"{record.cluster}~{k}" if record.cluster else "")
            )
        if len(batch) >= batch_size:
            yield batch
            batch = Batch()
    if len(batch):
        yield batch


def write_store(store, source: Source, chosen: Plan, sigma: float, batch_size: int, progress=None) -> dict:
    """Write the planned store into ``store`` (an empty ArticleStore): chunks (``collection.add``),
    manifest records, then one version bump. Returns the write timings."""
    write_s = records_s = make_s = 0.0
    written = 0
    started = time.perf_counter()
    mark = time.perf_counter()
    for batch in batches(source, chosen, sigma, batch_size):
        make_s += time.perf_counter() - mark
        mark = time.perf_counter()
        store.chunks.add(
            ids=batch.ids, documents=batch.documents, metadatas=batch.metadatas,
            embeddings=np.concatenate(batch.vectors).tolist(),
        )
        write_s += time.perf_counter() - mark
        mark = time.perf_counter()
        store.write_records(batch.records)
        records_s += time.perf_counter() - mark
        written += len(batch)
        if progress is not None:
            progress(written, chosen.chunks)
        mark = time.perf_counter()
    version = store.bump_version()
    return {
        "chunks": written,
        "articles": len(chosen.originals) + len(chosen.copies),
        "originals": len(chosen.originals),
        "copies": len(chosen.copies),
        "batch_chunks": batch_size,
        "chunk_write_s": round(write_s, 2),
        "write_chunks_per_s": round(written / write_s, 1) if write_s else None,
        "records_write_s": round(records_s, 2),
        "generate_s": round(make_s, 2),
        "total_s": round(time.perf_counter() - started, 2),
        "version": version,
    }


def gold_articles(questions: list[dict]) -> set[str]:
    return {g for q in questions if q.get("answerable") for g in q.get("gold_sources") or []}


def ensure_source(data_dir: Path, corpus: Path, collection: str) -> None:
    """Ingest ``corpus`` into ``data_dir`` (a local store, collection ``collection``) unless a READY
    marker says an earlier run finished it (~25 min on 2 cores). Idempotent: a killed run resumes."""
    if (data_dir / "READY").exists():
        return
    from assistant.retrieval.embedding import build_embedding
    from assistant.settings import Settings
    from assistant.retrieval.store import ArticleStore
    from ingest.pipeline import Ingester

    settings = Settings(data_dir=data_dir, collection=collection, _env_file=None)
    store = ArticleStore(settings)
    summary = Ingester(store, build_embedding(settings), settings).ingest_paths([corpus], prune=True)
    if summary.failed:
        raise SystemExit(f"ingesting {corpus} into {data_dir} failed for {len(summary.failed)} item(s): {summary.failed[:3]}")
    (data_dir / "READY").write_text(json.dumps(summary.as_dict()) + "\n")
