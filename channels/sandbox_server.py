"""What every marketplace sandbox shares: an HTTP server on a thread, an optional order feed, start/stop.

Standard library only, like the sandboxes themselves. A sandbox subclasses ``SandboxServer`` and
sets ``handler_class`` (its request handler, which finds the sandbox as ``self.server.sandbox``),
``thread_name`` and ``_feed()`` (called by a thread when ``new_order_every`` is set).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar, Self


class SandboxHandler(BaseHTTPRequestHandler):
    """Routes every method to ``_dispatch(method)``; quiet logs; keep-alive like a real front end."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes; don't wait for delayed ACKs
    banner: ClassVar[str] = ""  # what the Server header says (e.g. "cloudflare", "Apache")

    def version_string(self) -> str:
        return self.banner

    def log_message(self, format: str, *args) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        raise NotImplementedError


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default listen backlog (5) refuses bursts of concurrent clients


class SandboxServer:
    handler_class: ClassVar[type[BaseHTTPRequestHandler]]
    thread_name: ClassVar[str] = "sandbox"

    host: str
    port: int
    new_order_every: float | None

    def _init_server(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, self.port), self.handler_class)
        server.sandbox = self  # type: ignore[attr-defined]
        self._server = server
        self.port = server.server_address[1]
        serve = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"{self.thread_name}:{self.port}",
            daemon=True,
        )
        serve.start()
        self._threads = [serve]
        if self.new_order_every:
            feeder = threading.Thread(target=self._feed, name=f"{self.thread_name}-feed", daemon=True)
            feeder.start()
            self._threads.append(feeder)
        return self

    def stop(self) -> None:
        self._stopping.set()  # also wakes requests held by the timeout fault
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("The sandbox is not running; call start() first.")
        return f"http://{self.host}:{self.port}"

    def _feed(self) -> None:
        raise NotImplementedError
