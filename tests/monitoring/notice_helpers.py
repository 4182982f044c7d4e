"""A fake SMS / WeChat gateway on 127.0.0.1 for the notice tests, and the queue of sends."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

ID_LIKE = re.compile(r"[0-9]{17}[0-9Xx]")


@dataclass
class Gateway:
    """Answers each request with the next of ``answers`` (status, JSON body); the last one repeats.
    Records every request: method, path (with query), headers and JSON body."""

    answers: list[tuple[int, dict[str, Any]]]
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def answer(self) -> tuple[int, dict[str, Any]]:
        n = min(len(self.requests) - 1, len(self.answers) - 1)
        return self.answers[n]


@contextmanager
def fake_gateway(*answers: tuple[int, dict[str, Any]]) -> Iterator[Gateway]:
    gateway = Gateway(answers=list(answers) or [(200, {"code": 0})])

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            gateway.requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "json": json.loads(raw) if raw else None,
                }
            )
            status, body = gateway.answer()
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle

        def log_message(self, *args: Any) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def queued_sends() -> Iterator[list[int]]:
    """The notice ids enqueued (``notice_send_task.delay_on_commit``), instead of sending them."""
    ids: list[int] = []
    with mock.patch("monitoring.tasks.notice_send_task.delay_on_commit", side_effect=ids.append):
        yield ids


def run_sends(ids: list[int]) -> None:
    """Run each enqueued send as Celery would (in-process, retries at once)."""
    from monitoring.tasks import notice_send_task

    for pk in ids:
        notice_send_task.apply(args=[pk])
