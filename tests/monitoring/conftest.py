from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    """Uploaded import files go to a temporary MEDIA_ROOT, never into the project."""
    settings.MEDIA_ROOT = tmp_path / "media"
