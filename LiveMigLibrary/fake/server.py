"""Serving a fake cloud over HTTP on 127.0.0.1 from a background thread.

HTTP/1.1 with keep-alive, as Nova's API serves (eventlet's wsgi server, or uwsgi behind
Apache): a client's connection pool sends request after request over one TCP connection
instead of opening a connection (and the server a thread) per request. werkzeug's
development server closes every connection after one answer (its ``run_wsgi`` cannot
tell the next request from an unread body), so the request handler here answers a
request itself: every answer has a ``Content-Length`` (none has a body for HEAD, 1xx,
204 or 304), an unread request body is read off before the next request, and a
connection whose body cannot be read off (broken chunking, more than ``MAX_DRAIN_BYTES``)
is closed after its answer. A connection idle for ``keep_alive_timeout`` seconds is
closed (as Nova's ``client_socket_timeout``, but short: each open connection holds a
thread), and ``stop()`` closes the idle ones at once, so stopping never waits for a
client that keeps its connection open.
"""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
import threading
import time

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

from .api.compute import ComputeService
from .api.control import ControlService
from .api.identity import IdentityService
from .api.image import ImageService
from .api.placement import PlacementService
from .api.wsgi import Application

KEEP_ALIVE_TIMEOUT = 30.0  # seconds an idle keep-alive connection stays open
MAX_DRAIN_BYTES = 1 << 20  # an unread request body up to this size is read off and dropped
DISCARD_LIMIT_BYTES = 10_000_000  # what is read off a closing connection, at most
BODILESS = frozenset({204, 304})
STOP_JOIN_SECONDS = 2.0  # how long stop() waits for the connections' threads to end


class _KeepAliveHandler(WSGIRequestHandler):
    """HTTP/1.1 with keep-alive. Requests too broken to reach the application (a bad
    request line, headers too long) are answered in keystone's JSON error shape, not
    http.server's HTML page, and close the connection."""

    protocol_version = "HTTP/1.1"
    error_message_format = (
        '{"error": {"code": %(code)d, "title": "%(message)s", "message": "%(explain)s"}}'
    )
    error_content_type = "application/json"

    def setup(self) -> None:
        self.timeout = self.server.keep_alive_timeout
        super().setup()
        # the answer goes out in one write; no Nagle delay for the next one either
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:
        self.server.track(self.connection)
        try:
            super().handle()
        finally:
            self.server.untrack(self.connection)

    def log_error(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
        if format.startswith("Request timed out"):  # an idle keep-alive connection: normal
            return
        super().log_error(format, *args)

    def run_wsgi(self) -> None:
        # "Expect: 100-continue" was answered by http.server's parse_request
        self.environ = environ = self.make_environ()
        body = None  # the request body as the application reads it (Content-Length)
        if not environ.get("wsgi.input_terminated"):  # chunked: werkzeug's DechunkedInput
            try:
                length = max(int(environ.get("CONTENT_LENGTH") or 0), 0)
            except ValueError:
                length, self.close_connection = 0, True  # cannot tell where the body ends
            body = LimitedStream(self.rfile, length)
            environ["wsgi.input"] = body
        status, headers, chunks = self._call_application(environ)
        code = int(status.split(None, 1)[0])
        payload = b"".join(chunks)
        no_body = environ["REQUEST_METHOD"] == "HEAD" or code in BODILESS or code < 200
        if not no_body:
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(payload))))
        self._finish_request_body(body, environ)
        self.send_response(code, status.split(None, 1)[1] if " " in status else "")
        for key, value in headers:
            if key.lower() not in ("connection", "transfer-encoding"):
                self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        elif self.request_version == "HTTP/1.0":  # it asked for keep-alive
            self.send_header("Connection", "keep-alive")
        # headers and body in one write (http.server would write them apart)
        self._headers_buffer.append(b"\r\n")
        if not no_body:
            self._headers_buffer.append(payload)
        self.flush_headers()
        if self.close_connection and not self._body_done:
            self._discard_unread()

    def _call_application(self, environ) -> tuple[str, list, list[bytes]]:
        answer: dict = {}

        def start_response(status, headers, exc_info=None):
            answer["status"], answer["headers"] = status, list(headers)
            return lambda data: answer.setdefault("written", []).append(data)

        try:
            result = self.server.app(environ, start_response)
            try:
                chunks = [*answer.get("written", []), *result]
            finally:
                if hasattr(result, "close"):
                    result.close()
            return answer["status"], answer["headers"], chunks
        except Exception as exc:  # noqa: BLE001 - the application answers its own errors
            self.server.log("error", f"Error on request {self.command} {self.path}: {exc!r}")
            self.close_connection = True
            error = {"code": 500, "title": "Internal Server Error", "message": str(exc)}
            return (
                "500 INTERNAL SERVER ERROR",
                [("Content-Type", "application/json")],
                [json.dumps({"error": error}).encode()],
            )

    def _finish_request_body(self, body: LimitedStream | None, environ) -> None:
        """Read off what the application left of the request body, or close after the
        answer when the next request's start cannot be found."""
        self._body_done = True
        if body is None:  # chunked
            if not getattr(environ["wsgi.input"], "_done", False):
                self.close_connection, self._body_done = True, False
            return
        left = body.limit - body._pos
        if left <= 0:
            return
        if left > MAX_DRAIN_BYTES:
            self.close_connection, self._body_done = True, False
            return
        try:
            body.exhaust()
        except Exception:  # noqa: BLE001 - the client went away: nothing more to read
            self.close_connection = True

    def _discard_unread(self) -> None:
        """Before closing with a body still unread, read what the client still sends
        (bounded, as werkzeug does), so that it sees the answer, not a reset."""
        total = 0
        with selectors.DefaultSelector() as selector:
            selector.register(self.connection, selectors.EVENT_READ)
            for _ in range(1000):
                if not selector.select(timeout=0.01):
                    return
                try:
                    data = self.connection.recv(1 << 20)
                except OSError:
                    return
                total += len(data)
                if not data or total >= DISCARD_LIMIT_BYTES:
                    return


class _QuietHandler(_KeepAliveHandler):
    """No access log on stderr (it would drown the test output)."""

    def log_request(self, *args, **kwargs):
        pass

    def log(self, type, message, *args):  # noqa: A002 - werkzeug's signature
        if type == "error":
            super().log(type, message, *args)


class _Server(ThreadedWSGIServer):
    """werkzeug's threaded server, knowing its open connections so that it can close
    them when it stops."""

    def __init__(self, *args, keep_alive_timeout: float = KEEP_ALIVE_TIMEOUT, **kwargs):
        self.keep_alive_timeout = keep_alive_timeout
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._connections_lock = threading.Lock()
        self._stopping = False
        # stop_serving() wakes the accept loop through this pair at once; socketserver's
        # serve_forever() only sees its shutdown flag at the next poll
        self._wake_read, self._wake_write = socket.socketpair()
        self._stop_requested = False
        self._served = threading.Event()
        super().__init__(*args, **kwargs)

    def serve_until_stopped(self) -> None:
        """Accepts connections (each gets its thread) until `stop_serving`."""
        self._served.clear()
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self, selectors.EVENT_READ)
                selector.register(self._wake_read, selectors.EVENT_READ)
                while not self._stop_requested:
                    for key, _ in selector.select():
                        if key.fileobj is self and not self._stop_requested:
                            self._handle_request_noblock()
                    self.service_actions()
        finally:
            self._served.set()

    def stop_serving(self, wait: float) -> None:
        """Ends `serve_until_stopped` and waits up to ``wait`` seconds for it to return."""
        self._stop_requested = True
        with contextlib.suppress(OSError):
            self._wake_write.send(b"x")
        self._served.wait(wait)

    def server_close(self) -> None:
        super().server_close()
        for end in (self._wake_read, self._wake_write):
            end.close()

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections[connection] = threading.current_thread()
            stopping = self._stopping
        if stopping:
            _shut_reading(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.pop(connection, None)

    def close_connections(self, wait: float) -> None:
        """Stop reading every open connection (an idle one ends at once; one whose answer
        is being written still gets it) and wait up to ``wait`` seconds for their threads."""
        with self._connections_lock:
            self._stopping = True
            open_now = dict(self._connections)
        for connection in open_now:
            _shut_reading(connection)
        deadline = time.monotonic() + wait
        for thread in open_now.values():
            thread.join(timeout=max(deadline - time.monotonic(), 0))


def _shut_reading(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RD)


def build_app(cloud, control) -> Application:
    return Application(
        cloud,
        [
            IdentityService(),
            ComputeService(),
            PlacementService(),
            ImageService(),
            ControlService(control),
        ],
    )


class HttpServer:
    def __init__(
        self,
        app: Application,
        host: str = "127.0.0.1",
        port: int = 0,
        log_requests: bool = False,
        keep_alive_timeout: float = KEEP_ALIVE_TIMEOUT,
    ):
        handler = _KeepAliveHandler if log_requests else _QuietHandler
        self.server = _Server(host, port, app, handler, keep_alive_timeout=keep_alive_timeout)
        self.host, self.port = self.server.server_address[:2]
        app.base_url = f"http://{self.host}:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.server.serve_until_stopped,
            name=f"fake-cloud-http-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.server.stop_serving(wait=5)
            self._thread.join(timeout=5)
        self.server.server_close()
        self.server.close_connections(wait=STOP_JOIN_SECONDS)
