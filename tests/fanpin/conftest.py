"""Fixtures of the fanpin (kernel and web plumbing) tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from fanpin.web import pdf


@pytest.fixture
def browser() -> Iterator[Any]:
    """The process's kept PDF browser, with no file kept before or after the test, closed after it."""
    pdf._MADE.forget()
    yield pdf._BROWSER
    pdf._BROWSER.close()
    pdf._MADE.forget()
