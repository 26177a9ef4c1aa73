"""Where the third-party corpora are: $WIREWATCH_SHARED_DATA, else ../shared/data beside the repository.

They are not part of the repository (a clone from the forge has none), so every test that reads
them is skipped, saying why, when they are absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("WIREWATCH_SHARED_DATA") or REPO.parent / "shared" / "data")


def corpus(*parts: str) -> Path:
    return SHARED_DATA.joinpath(*parts)


def absent_reason(path: Path) -> str:
    return (f"third-party corpus {path} is absent (set WIREWATCH_SHARED_DATA, or put shared/data"
            " beside the repository)")


def needs(path: Path) -> pytest.MarkDecorator:
    """Skip the test, naming the path, when this corpus file or folder is absent."""
    return pytest.mark.skipif(not path.exists(), reason=absent_reason(path))


def skipped_param(path: Path):
    """The one parameter of a corpus-driven parametrize when the corpus is absent: a named skip."""
    return pytest.param(None, id="corpus-absent", marks=pytest.mark.skip(reason=absent_reason(path)))
