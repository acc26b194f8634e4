"""The MinHash signatures of article bodies as the manifest stores them, and their LSH bands.

Ingest signs each body (:mod:`ingest.syndication`) and keeps the signature in the article's manifest
record (:func:`encode`, base64 of datasketch's ``LeanMinHash`` serialisation). Clustering finds
candidate copies by LSH: two signatures are candidates when they agree on every value of one band.
The keyword index stores each article's band keys (:func:`band_keys`), so that an ingest finds the
candidates of a few new articles with one query instead of reading every signature in the store.
Both sides read the parameters from here, so the bands a query uses are the bands clustering means.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # datasketch (and the scipy it imports) costs a worker 2 s to import: only when signing
    from datasketch import LeanMinHash, MinHashLSH

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
# Tuned for recall (false negatives weigh 0.9): at the default weights a pair just over the threshold
# is a candidate only half the time, and every candidate's similarity is checked anyway.
LSH_WEIGHTS = (0.1, 0.9)

# Stored for a body too short to sign: it is not signed again on every ingest.
TOO_SHORT = "-"
# The key the keyword index holds for a record that was never signed (a store older than clustering):
# while one is left, clustering must read every record (it signs them from their chunks).
UNSIGNED = "unsigned"


def lsh() -> "MinHashLSH":
    """An empty LSH index with the parameters of every clustering."""
    from datasketch import MinHashLSH

    return MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, weights=LSH_WEIGHTS)


def encode(sig: "LeanMinHash | None") -> str:
    """A signature as a short ASCII string (for a Chroma metadata value); :data:`TOO_SHORT` for None."""
    if sig is None:
        return TOO_SHORT
    buf = bytearray(sig.bytesize(byteorder="<"))
    sig.serialize(buf, byteorder="<")
    return base64.b64encode(bytes(buf)).decode("ascii")


def decode(value: str) -> "LeanMinHash | None":
    """The signature :func:`encode` wrote; None for :data:`TOO_SHORT`, "" or a value that is not one."""
    if not value or value == TOO_SHORT:
        return None
    from datasketch import LeanMinHash

    try:
        sig = LeanMinHash.deserialize(base64.b64decode(value), byteorder="<")
    except (binascii.Error, struct.error, ValueError):
        return None
    return sig if len(sig) == NUM_PERM and sig.seed == SEED else None


@cache
def _band_ranges() -> tuple[tuple[int, int], ...]:
    return tuple(lsh().hashranges)


def band_keys(sig: "LeanMinHash | None") -> tuple[str, ...]:
    """One key per LSH band of ``sig`` (none for None): two signatures share a key exactly when they
    share that band's values, which is when the LSH index makes them candidates. A key is the band's
    number and a 64-bit digest of its values (a collision only adds a candidate, checked anyway)."""
    if sig is None:
        return ()
    return tuple(
        f"{band:02d}{hashlib.blake2b(sig.hashvalues[start:end].tobytes(), digest_size=8).hexdigest()}"
        for band, (start, end) in enumerate(_band_ranges())
    )


def stored_band_keys(minhash: str) -> tuple[str, ...]:
    """The keys the keyword index holds for a record's stored signature: its bands; none for a body
    too short to sign; :data:`UNSIGNED` when it was never signed."""
    return (UNSIGNED,) if not minhash else band_keys(decode(minhash))
