"""Shared fixtures: the loopback feed server (tests/feedserver.py) and config helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.feedserver", "tests.backends"]

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a config.toml (and optional rule files) into tmp_path; return its path."""

    def write(text: str, rules: dict[str, str] | None = None) -> Path:
        rules_dir = tmp_path / "rules"
        rules_dir.mkdir(exist_ok=True)
        for name, body in (rules or {}).items():
            (rules_dir / f"{name}.toml").write_text(body, encoding="utf-8")
        path = tmp_path / "config.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write
