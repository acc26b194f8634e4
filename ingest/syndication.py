"""Syndicated copies: the same (wire) story published by several outlets, found as near-duplicates.

Each article's body is reduced to a MinHash signature (datasketch) of its word shingles: the set of
every ``SHINGLE_WORDS`` consecutive words of the lower-cased body with punctuation stripped. Copies of
one story share nearly all shingles, so the few a different dateline ("HALIFAX (Wire) —" against
"By Staff") or a boilerplate footer add barely move the estimated Jaccard similarity; the headline is
not part of the body at all. A MinHash LSH index (datasketch's ``MinHashLSH``) proposes candidate
pairs, the signatures' estimated Jaccard similarity confirms them (LSH alone admits some pairs below
its threshold), and the connected groups are the clusters. A cluster's id is the id of its oldest
member (earliest ``published_at``, undated last, then the smallest id), so it is stable while that
member stays and moves to the next oldest when it is deleted.

Signatures are stored as short strings (:func:`assistant.retrieval.signatures.encode`, base64 of datasketch's own
``LeanMinHash`` serialisation, ~1,400 characters) in the article manifest, and the keyword index keeps
each article's LSH band keys. An ingest finds the candidate copies of the articles it writes with one
query of those keys (``ingest.pipeline.Ingester.reclustered``) and clusters only what they can change;
a run that prunes, or finds the index behind the store, clusters every record from the manifest
alone, without reading the old articles again.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, islice
from typing import Iterable, Iterator

from datasketch import LeanMinHash, MinHash

# The stored form and the LSH parameters are the keyword index's too (it keeps each article's bands).
from assistant.retrieval.signatures import NUM_PERM, SEED, THRESHOLD, TOO_SHORT, decode, encode, lsh  # noqa: F401

SHINGLE_WORDS = 5
# Bodies shorter than this many words are not clustered: a few shared sentences of boilerplate would
# make two different briefs look like copies.
MIN_WORDS = 40

_APOSTROPHES = re.compile(r"['’ʼ`´]")
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The body's words, normalised so that copies agree: Unicode-folded (NFKC), lower-cased,
    apostrophes dropped ("It’s" and "it's" are both "its"), every other punctuation mark a break."""
    return _WORD.findall(_fold(text))


def _fold(text: str) -> str:
    return _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text).lower())


def shingles(text: str, size: int = SHINGLE_WORDS) -> set[bytes]:
    """Every ``size`` consecutive words of ``text`` (fewer words: one shingle of them all)."""
    return _shingles(words(text), size)


def _shingles(tokens: list[str], size: int = SHINGLE_WORDS) -> set[bytes]:
    if len(tokens) <= size:
        return {" ".join(tokens).encode()} if tokens else set()
    return {" ".join(tokens[i : i + size]).encode() for i in range(len(tokens) - size + 1)}


@lru_cache(maxsize=1)
def _template() -> MinHash:
    # Drawing the permutations costs more than hashing a short article: drawn once, shared.
    return MinHash(num_perm=NUM_PERM, seed=SEED)


# Shingles hashed in one call: datasketch holds NUM_PERM 64-bit values for each (a 20 MB body's
# shingles at once took a gigabyte). A signature is a minimum, so it is the same whatever the batches.
_SIGN_BATCH = 10_000


def signature(text: str) -> LeanMinHash | None:
    """The MinHash signature of the body's shingles; None when the body is too short to cluster."""
    tokens = (m.group() for m in _WORD.finditer(_fold(text)))  # read as they are hashed: a long body is never held as words
    head = list(islice(tokens, MIN_WORDS))
    if len(head) < MIN_WORDS:
        return None
    template = _template()
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, permutations=template.permutations, scheme=template.scheme)
    window = deque(head[: SHINGLE_WORDS - 1], maxlen=SHINGLE_WORDS)

    def shingles() -> Iterator[bytes]:
        for token in chain(head[SHINGLE_WORDS - 1 :], tokens):
            window.append(token)
            yield " ".join(window).encode()

    batches = shingles()
    while batch := list(islice(batches, _SIGN_BATCH)):
        minhash.update_batch(batch)
    return LeanMinHash(minhash)


@dataclass(frozen=True)
class Member:
    """An article as clustering sees it."""

    id: str
    published_at: str  # ISO date or ""
    signature: LeanMinHash | None  # None: too short, never clustered with anything


def _age_key(member: Member) -> tuple[int, str, str]:
    # Oldest first; undated articles after dated ones; ties by id so that the choice is stable.
    return (0 if member.published_at else 1, member.published_at, member.id)


def clusters(members: Iterable[Member]) -> dict[str, str]:
    """Each member's cluster id: the id of the oldest member of its group of near-duplicates (its own
    id when it has none). Groups are connected: if A copies B and B copies C, all three are one."""
    members = sorted(members, key=_age_key)
    by_id = {m.id: m for m in members}
    parent = {m.id: m.id for m in members}

    def root(article_id: str) -> str:
        while parent[article_id] != article_id:
            parent[article_id] = parent[parent[article_id]]
            article_id = parent[article_id]
        return article_id

    signed = [m for m in members if m.signature is not None]
    if len(signed) > 1:
        index = lsh()
        with index.insertion_session() as session:
            for m in signed:
                session.insert(m.id, m.signature, check_duplication=False)
        for m in signed:
            for other in index.query(m.signature):
                if other == m.id or m.signature.jaccard(by_id[other].signature) < THRESHOLD:
                    continue
                a, b = root(m.id), root(other)
                if a != b:
                    # The older root stays the root: a cluster is named after its oldest member.
                    older, newer = sorted((a, b), key=lambda i: _age_key(by_id[i]))
                    parent[newer] = older
    return {m.id: root(m.id) for m in members}
