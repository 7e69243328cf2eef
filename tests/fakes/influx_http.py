"""A scripted HTTP server on a loopback port, for the answers real servers won't easily give.

It stands in for InfluxDB only where a real server cannot be made to answer
on demand (401 from a 2.x token check, 413 from the v2 API, 429/503 with
``Retry-After``). Each use has a twin test against a real server
(``tests/integration/test_influx_errors.py``).
"""

from __future__ import annotations

import gzip
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

__all__ = ["Answer", "FakeInflux", "Recorded"]


@dataclass(frozen=True)
class Answer:
    """One scripted answer; ``delay_s`` holds it back (to provoke client timeouts)."""

    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay_s: float = 0.0


@dataclass(frozen=True)
class Recorded:
    """One request as the fake received it (the body un-gzipped)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class FakeInflux:
    """Answers requests from a queue of :class:`Answer` (then 204), and records them."""

    def __init__(self) -> None:
        self.answers: deque[Answer] = deque()
        self.requests: list[Recorded] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    raw = gzip.decompress(raw)
                url = urllib.parse.urlsplit(self.path)
                fake.requests.append(
                    Recorded(
                        "POST",
                        url.path,
                        dict(urllib.parse.parse_qsl(url.query)),
                        {k.lower(): v for k, v in self.headers.items()},
                        raw,
                    )
                )
                answer = fake.answers.popleft() if fake.answers else Answer()
                time.sleep(answer.delay_s)
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def answer(self, *answers: Answer) -> None:
        """Queue ``answers`` for the next requests."""
        self.answers.extend(answers)

    def __enter__(self) -> FakeInflux:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
