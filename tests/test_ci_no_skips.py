"""Under CI (``CI=true``) a missing chromium or an unimportable llama_cpp fails the run instead of
skipping whole files; elsewhere those tests still skip, naming what is missing. Each case runs pytest
on the real test file in a child process, with chromium pointed at a missing path (``CHROMIUM``) or a
llama_cpp package on ``PYTHONPATH`` that fails to import, as a broken build does."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO


def _pytest(args: list[str], ci: bool, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "CI"} | env
    if ci:
        environment["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", *args],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=240,
    )


@pytest.mark.parametrize("ci", [True, False], ids=["ci", "local"])
def test_a_missing_chromium(ci, tmp_path):
    run = _pytest(["tests/test_browser.py", "-k", "test_api_docs_render_offline"], ci, CHROMIUM=str(tmp_path / "no-chromium"))
    out = run.stdout + run.stderr
    assert "Debian package 'chromium' is not installed" in out, out
    if ci:
        assert run.returncode != 0 and "1 error" in out and not re.search(r"\d+ skipped", out), out
    else:
        assert run.returncode == 0 and "1 skipped" in out, out


@pytest.mark.parametrize("ci", [True, False], ids=["ci", "local"])
def test_an_unimportable_llama_cpp(ci, tmp_path):
    broken = tmp_path / "site" / "llama_cpp"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text('raise OSError("libllama.so: cannot open shared object file")\n')
    run = _pytest(["tests/test_llm.py", "--collect-only"], ci, PYTHONPATH=str(tmp_path / "site"))
    out = run.stdout + run.stderr
    assert "llama-cpp-python cannot be imported" in out and "libllama.so" in out, out
    if ci:
        assert run.returncode != 0 and "1 error" in out and not re.search(r"\d+ skipped", out), out
    else:
        assert "SKIPPED [1]" in out and "error" not in out, out  # the whole module, named
