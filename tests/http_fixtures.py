"""A real HTTP server on 127.0.0.1 for tests, serving canned bodies with scripted misbehaviour.

Usage::

    with ArchiveServer() as server:
        url = server.serve("/a.tar.gz", Route(body=data))
        ...
        assert server.hits("/a.tar.gz") == 1
"""

from __future__ import annotations

import dataclasses
import http.server
import threading
import time
from collections import Counter


@dataclasses.dataclass(frozen=True)
class Route:
    """How the server answers GET on one path.

    Attributes:
        body: bytes of the response body.
        status: HTTP status; anything but 200 is sent as an error page without ``body``.
        content_length: Content-Length header to announce; ``None`` announces ``len(body)``. A larger
            value than ``len(body)`` makes the server close the connection early (a truncated download).
        delay_s: seconds to sleep before the status line (a stalled server).
        chunk_bytes: the body is written in pieces of this many bytes...
        chunk_delay_s: ...with this many seconds of sleep after each piece (a slow server).
    """

    body: bytes = b""
    status: int = 200
    content_length: int | None = None
    delay_s: float = 0.0
    chunk_bytes: int = 1 << 16
    chunk_delay_s: float = 0.0


class ArchiveServer:
    """A ``ThreadingHTTPServer`` on a free port of 127.0.0.1 that counts the requests per path."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._hits: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ArchiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/``."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def serve(self, path: str, route: Route) -> str:
        """Answer GET ``path`` (starting with ``/``) with ``route``; return the full URL."""
        self._routes[path] = route
        return self.base_url + path.lstrip("/")

    def hits(self, path: str) -> int:
        """How many GET requests reached ``path`` so far."""
        with self._lock:
            return self._hits[path]

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (name fixed by http.server)
                with server._lock:
                    server._hits[self.path] += 1
                route = server._routes.get(self.path, Route(status=404))
                try:
                    time.sleep(route.delay_s)
                    if route.status != 200:
                        self.send_error(route.status)
                        return
                    self.send_response(200)
                    length = len(route.body) if route.content_length is None else route.content_length
                    self.send_header("Content-Length", str(length))
                    self.end_headers()
                    for start in range(0, len(route.body), route.chunk_bytes):
                        self.wfile.write(route.body[start : start + route.chunk_bytes])
                        self.wfile.flush()
                        time.sleep(route.chunk_delay_s)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test); nothing left to do

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (signature fixed by http.server)
                """Keep test output quiet."""

        return Handler
