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

Signatures are stored as short strings (:func:`encode`, base64 of datasketch's own ``LeanMinHash``
serialisation, ~1,400 characters) in the article manifest, so a later ingest clusters new articles
against old ones from the manifest alone, without reading the old articles again.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import unicodedata
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, islice
from typing import Iterable, Iterator

from datasketch import LeanMinHash, MinHash, MinHashLSH

SHINGLE_WORDS = 5
# 256 permutations keep the estimated similarity within about ±0.03 of the true one near the threshold
# (128 gave ±0.045, enough to put two distinct explainers sharing background paragraphs over it).
NUM_PERM = 256
SEED = 1  # the permutations are drawn from this seed: every signature must share it to be compared
# Estimated Jaccard similarity of two bodies' shingle sets from which they are copies of one story.
# Measured on 1,739 real news articles (the RealTimeQA dev corpus): the 9 groups over it are reposts
# and updated versions of one story, from 1.0 down to 0.52 (a national trim of a local story, and a
# game preview re-issued the next day with a betting line); the closest distinct articles (two
# explainers of one newsroom sharing background paragraphs) estimate 0.41 (truly 0.48).
THRESHOLD = 0.5
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


# Stored for a body too short to sign: it is not signed again on every ingest.
TOO_SHORT = "-"


def encode(sig: LeanMinHash | None) -> str:
    """A signature as a short ASCII string (for a Chroma metadata value); :data:`TOO_SHORT` for None."""
    if sig is None:
        return TOO_SHORT
    buf = bytearray(sig.bytesize(byteorder="<"))
    sig.serialize(buf, byteorder="<")
    return base64.b64encode(bytes(buf)).decode("ascii")


def decode(value: str) -> LeanMinHash | None:
    """The signature :func:`encode` wrote; None for :data:`TOO_SHORT`, "" or a value that is not one."""
    if not value or value == TOO_SHORT:
        return None
    try:
        sig = LeanMinHash.deserialize(base64.b64decode(value), byteorder="<")
    except (binascii.Error, struct.error, ValueError):
        return None
    return sig if len(sig) == NUM_PERM and sig.seed == SEED else None


@dataclass(frozen=True)
class Member:
    """An article as clustering sees it."""

    id: str
    published_at: str  # ISO date or ""
    signature: LeanMinHash | None  # None: too short, never clustered with anything


def _age_key(member: Member) -> tuple[int, str, str]:
    # Oldest first; undated articles after dated ones; ties by id so that the choice is stable.
    return (0 if member.published_at else 1, member.published_at, member.id)


def clusters(members: Iterable[Member], threshold: float = THRESHOLD) -> dict[str, str]:
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
        # Tuned for recall (false negatives weigh 0.9): at the default weights a pair just over the
        # threshold is a candidate only half the time, and every candidate is checked below anyway.
        lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM, weights=(0.1, 0.9))
        with lsh.insertion_session() as session:
            for m in signed:
                session.insert(m.id, m.signature, check_duplication=False)
        for m in signed:
            for other in lsh.query(m.signature):
                if other == m.id or m.signature.jaccard(by_id[other].signature) < threshold:
                    continue
                a, b = root(m.id), root(other)
                if a != b:
                    # The older root stays the root: a cluster is named after its oldest member.
                    older, newer = sorted((a, b), key=lambda i: _age_key(by_id[i]))
                    parent[newer] = older
    return {m.id: root(m.id) for m in members}
