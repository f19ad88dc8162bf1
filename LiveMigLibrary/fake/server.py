"""Serving a fake cloud over HTTP on 127.0.0.1 from a background thread."""

from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .api.compute import ComputeService
from .api.control import ControlService
from .api.identity import IdentityService
from .api.image import ImageService
from .api.placement import PlacementService
from .api.wsgi import Application


class _JsonErrorsHandler(WSGIRequestHandler):
    """Requests too broken to reach the application (a bad request line, headers too long)
    are answered in keystone's JSON error shape, not http.server's HTML page."""

    error_message_format = (
        '{"error": {"code": %(code)d, "title": "%(message)s", "message": "%(explain)s"}}'
    )
    error_content_type = "application/json"


class _QuietHandler(_JsonErrorsHandler):
    """No access log on stderr (it would drown the test output)."""

    def log_request(self, *args, **kwargs):
        pass

    def log(self, type, message, *args):  # noqa: A002 - werkzeug's signature
        if type == "error":
            super().log(type, message, *args)


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
        self, app: Application, host: str = "127.0.0.1", port: int = 0, log_requests: bool = False
    ):
        handler = _JsonErrorsHandler if log_requests else _QuietHandler
        self.server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=handler
        )
        self.server.daemon_threads = True
        self.host, self.port = self.server.server_address[:2]
        app.base_url = f"http://{self.host}:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"fake-cloud-http-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def serve_forever(self) -> None:
        self.server.serve_forever(poll_interval=0.02)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
