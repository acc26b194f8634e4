"""Plain text of any size, made of varied synthetic news sentences (no corpus text): the big, odd
inputs of bench/ingest --rss. Seeded, so every run ingests the same text.

    python -m bench.synthetic_text OUT.txt --mb 20
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

_WHO = ["The council", "A spokeswoman for the ministry", "Local fishermen", "The harbour authority", "Two senators",
        "The regional court", "Investors", "Residents of the valley", "The coach", "Hospital staff", "The mayor",
        "A team of geologists", "Union leaders", "The central bank", "Volunteers", "The ferry operator"]
_DID = ["said on {day} that", "warned that", "confirmed that", "announced that", "denied reports that",
        "told reporters that", "argued that", "estimated that", "wrote in a statement that", "agreed that"]
_WHAT = ["the {thing} would cost {n} million {cur}", "{n} people had signed the petition against the {thing}",
         "the {thing} was delayed by {n} weeks", "work on the {thing} would resume in {month}",
         "the {thing} had drawn {n} complaints since {month}", "a vote on the {thing} was expected before {month}",
         "the {thing} in {town} had been closed for {n} days", "prices near the {thing} rose {n} percent"]
_THING = ["bridge", "library", "seawall", "rail link", "school budget", "tram line", "water plant", "stadium",
          "ferry route", "housing plan", "wind farm", "clinic", "harbour dredging", "bus depot", "museum wing"]
_TOWN = ["Northport", "Elm Valley", "Saltmarsh", "Granite Falls", "Kestrel Bay", "Ridgeback", "Lowmoor", "Ashford"]
_DAY = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_MONTH = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
_CURRENCY = ["dollars", "euros", "pounds", "kroner"]
_AFTER = ["", "", " after a long debate", " despite objections from {town}", ", according to officials",
          ", a decision that surprised observers", " for the second time this year"]


def sentence(rng: random.Random) -> str:
    fill = {"day": rng.choice(_DAY), "month": rng.choice(_MONTH), "thing": rng.choice(_THING), "town": rng.choice(_TOWN),
            "n": rng.randint(2, 950), "cur": rng.choice(_CURRENCY)}
    text = f"{rng.choice(_WHO)} {rng.choice(_DID)} {rng.choice(_WHAT)}{rng.choice(_AFTER)}.".format(**fill)
    return text


def write_text(path: Path, size_bytes: int, seed: int = 23) -> Path:
    """A title line, then paragraphs of 3-7 sentences, until the file holds ``size_bytes`` bytes."""
    rng = random.Random(seed)
    written = 0
    with path.open("w", encoding="utf-8") as f:
        for line in ("Notes from the regional desk\n\n",):
            f.write(line)
            written += len(line)
        while written < size_bytes:
            paragraph = " ".join(sentence(rng) for _ in range(rng.randint(3, 7))) + "\n\n"
            f.write(paragraph)
            written += len(paragraph.encode("utf-8"))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--mb", type=float, default=20.0, help="size in MB (10^6 bytes)")
    args = parser.parse_args()
    write_text(args.out, int(args.mb * 1_000_000))
    print(f"{args.out}: {args.out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
