from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.http import Http404

from fanpin.workflow import ObjectOutOfScope


@contextmanager
def out_of_scope_is_404() -> Iterator[None]:
    try:
        yield
    except ObjectOutOfScope:
        raise Http404("对象不存在或不在您的管辖范围内。") from None


def error_messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for messages in exc.message_dict.values() for m in messages]
    return list(exc.messages)
