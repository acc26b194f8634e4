"""The built wheel carries every package and data file a non-editable install needs."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_holds_subpackages_prompts_and_sample_set(tmp_path):
    # Built from a copy: setuptools writes build/ into the source tree, and a stale one would leak in.
    source = tmp_path / "src"
    shutil.copytree(
        ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", ".newsdesk", "build", "*.egg-info", "__pycache__")
    )
    # --no-build-isolation: setuptools from this environment (no index needed).
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(source)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("newsdesk-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "assistant/engine.py",
        "assistant/api/app.py",
        "assistant/slack/app.py",
        "ingest/pipeline.py",
        "eval/cli.py",
        "eval/sets/sample.jsonl",
    } | {f"prompts/{p.name}" for p in (ROOT / "prompts").glob("*.md")}
    assert expected <= names, sorted(expected - names)
    assert not any(n.startswith(("tests/", "bench/")) for n in names)
