"""The suite in a clone without ../shared/data: it collects, and corpus tests skip (never error)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.corpora import REPO


@pytest.mark.timeout(600)  # collecting imports every module: ~15 s, far more on a busy machine
def test_suite_collects_in_a_copy_without_the_shared_corpora(tmp_path):
    copy = tmp_path / "clone" / "wirewatch"  # nothing beside it: no ../shared
    shutil.copytree(REPO, copy, ignore=shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache", "*.db", "data"))
    env = {**os.environ, "WIREWATCH_SHARED_DATA": str(tmp_path / "nowhere")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                          cwd=copy, env=env, capture_output=True, text=True, timeout=540)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "error" not in proc.stdout.lower().split("\n")[-2], proc.stdout[-2000:]
    assert "corpus-absent" in proc.stdout  # the corpus tests are there, to be skipped with a reason
