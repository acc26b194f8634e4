"""The package layers of docs/architecture.md, checked on the source: no import arrow points up, the
doors import only the top of ``assistant``, and no module reads the settings when it is imported."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("assistant", "ingest", "eval")

BASE = {"assistant.answer", "assistant.settings", "assistant.text"}
TOP = {"assistant", "assistant.engine", "assistant.library", "assistant.outages"}
PARTS = ("assistant.understanding", "assistant.retrieval", "assistant.answering")
DOORS = ("assistant.cli", "assistant.api", "assistant.slack")

# Which layers each layer may import (its own always). Read as: an arrow may only point down.
ALLOWED = {
    "base": {"base"},
    "assistant.understanding": {"base"},
    "assistant.retrieval": {"base"},
    "assistant.answering": {"base", "assistant.understanding"},
    "top": {"base", *PARTS},
    "ingest": {"base", "assistant.retrieval"},
    "eval": {"base", "top", "ingest", "assistant.retrieval", "assistant.answering"},
    "doors": {"base", "top", "ingest", "eval"},
}


def layer_of(module: str) -> str:
    if module in BASE:
        return "base"
    if module in TOP:
        return "top"
    for package in (*PARTS, *DOORS):
        if module == package or module.startswith(package + "."):
            return "doors" if package in DOORS else package
    return module.split(".")[0]  # ingest, eval


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every project module ``path`` imports, at the top or inside a function (``from a.b import c``
    counts as ``a.b.c`` when c is a module, else as ``a.b``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                is_module = (REPO / Path(*name.split("."))).with_suffix(".py").exists() or (REPO / Path(*name.split("."))).is_dir()
                found.add(name if is_module else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] in PACKAGES}


def project_modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py"))


def test_no_import_arrow_points_up():
    wrong = []
    for path in project_modules():
        source = module_name(path)
        for target in imported_modules(path):
            here, there = layer_of(source), layer_of(target)
            if there != here and there not in ALLOWED[here]:
                wrong.append(f"{source} ({here}) imports {target} ({there})")
    assert not wrong, "imports against docs/architecture.md's layers:\n" + "\n".join(sorted(wrong))


def test_the_layers_are_all_used_as_drawn():
    """The table above is the real graph, not a wish: every allowed arrow between packages is one
    that exists (an arrow no module uses would be a rule nobody follows)."""
    arrows = defaultdict(set)
    for path in project_modules():
        for target in imported_modules(path):
            arrows[layer_of(module_name(path))].add(layer_of(target))
    for layer, allowed in ALLOWED.items():
        assert allowed <= arrows[layer] | {layer}, f"{layer}: allowed but unused: {allowed - arrows[layer]}"


def test_the_doors_import_only_the_top():
    for path in project_modules():
        source = module_name(path)
        if layer_of(source) != "doors":
            continue
        below = [t for t in imported_modules(path) if t.startswith("assistant") and layer_of(t) in PARTS]
        assert not below, f"{source} imports below the top: {below}"


def test_no_module_reads_the_settings_when_imported():
    """Importing every module with an unusable setting must work: settings are read when called."""
    names = [module_name(p) for p in project_modules() if p.name != "__main__.py"]
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    env = {**os.environ, "NEWSDESK_TOP_K": "not-a-number", "NEWSDESK_EMBEDDING": "no-such-embedder"}
    done = subprocess.run([sys.executable, "-c", code, *names], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
