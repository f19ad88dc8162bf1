"""The fake's HTTP transport: HTTP/1.1 keep-alive as Nova's API serves it.

A client's connection pool sends many requests over one TCP connection; answers are
framed by Content-Length (none has a body where HTTP forbids one), an idle connection is
closed after a bound, and stopping the fake never waits for a client that keeps its
connection open.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import pytest

from LiveMigLibrary.fake import FakeCloud
from LiveMigLibrary.fake.server import MAX_DRAIN_BYTES, STOP_JOIN_SECONDS, HttpServer, build_app

from .helpers import token_request


@pytest.fixture
def accepted(cloud, monkeypatch):
    """Client addresses of the TCP connections the fake accepts during the test."""
    server = cloud._http.server
    seen: list = []
    original = server.process_request

    def counting(request, client_address):
        seen.append(client_address)
        return original(request, client_address)

    monkeypatch.setattr(server, "process_request", counting)
    return seen


def _connection(port: int, timeout: float = 10) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.connect()
    return conn


def _get(conn, path: str, headers: dict | None = None):
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    return response, response.read()


def test_requests_over_one_client_connection_reuse_one_tcp_connection(cloud, accepted):
    conn = _connection(cloud.port)
    try:
        first = conn.sock.getsockname()
        for _ in range(3):
            response, body = _get(conn, "/identity/v3")
            assert response.status == 200 and json.loads(body)["version"]["id"] == "v3.14"
            assert response.version == 11 and response.getheader("Connection") is None
        assert conn.sock is not None and conn.sock.getsockname() == first
    finally:
        conn.close()
    assert accepted == [first]


def test_openstacksdk_calls_share_one_connection(cloud, accepted):
    sdk = cloud.connect()
    try:
        for _ in range(5):
            assert len(list(sdk.compute.flavors())) > 0
            list(sdk.compute.services())
        # the token, the version discovery of compute and every call: one connection
        assert len(accepted) == 1, accepted
    finally:
        sdk.close()


def test_204_answer_has_no_body_and_the_connection_goes_on(cloud, admin, ctl):
    sid = admin.boot("ka-204")
    ctl.settle()
    conn = _connection(cloud.port)
    try:
        conn.request(
            "DELETE", f"/compute/v2.1/servers/{sid}", headers={"X-Auth-Token": admin.token}
        )
        response = conn.getresponse()
        assert response.status == 204
        assert response.read() == b""
        assert response.getheader("Transfer-Encoding") is None
        # had the 204 carried a body, it would be read as the start of this answer
        response, body = _get(conn, "/identity/v3")
        assert response.status == 200 and json.loads(body)["version"]["id"] == "v3.14"
    finally:
        conn.close()


def test_head_answer_has_no_body(cloud, admin):
    conn = _connection(cloud.port)
    try:
        conn.request(
            "HEAD",
            "/identity/v3/auth/tokens",
            headers={"X-Auth-Token": admin.token, "X-Subject-Token": admin.token},
        )
        response = conn.getresponse()
        assert response.status == 200 and response.read() == b""
        response, body = _get(conn, "/identity/v3")
        assert response.status == 200 and json.loads(body)["version"]["id"] == "v3.14"
    finally:
        conn.close()


def test_pipelined_requests_are_answered_in_order(cloud, admin):
    one = b"GET /identity/v3 HTTP/1.1\r\nHost: x\r\n\r\n"
    two = (
        b"GET /compute/v2.1/flavors HTTP/1.1\r\nHost: x\r\nX-Auth-Token: "
        + admin.token.encode()
        + b"\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", cloud.port), timeout=10) as sock:
        sock.sendall(one + two)
        data = b""
        while chunk := sock.recv(65536):  # the server closes after the second answer
            data += chunk
    first, _, rest = data.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200")
    length = int(
        next(h for h in first.split(b"\r\n") if h.lower().startswith(b"content-length")).split(
            b":"
        )[1]
    )
    assert json.loads(rest[:length])["version"]["id"] == "v3.14"
    head, _, body = rest[length:].partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Connection: close" in head
    assert "flavors" in json.loads(body)


def test_an_unread_request_body_is_read_off_before_the_next_request(cloud, admin):
    conn = _connection(cloud.port)
    try:
        big = json.dumps({"server": {"name": "x" * 200_000}})  # over nova's 112 KiB
        conn.request(
            "POST",
            "/compute/v2.1/servers",
            body=big,
            headers={"X-Auth-Token": admin.token, "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        assert response.status == 413 and json.loads(response.read())["overLimit"]["code"] == 413
        assert response.getheader("Connection") is None  # the body was read off
        response, body = _get(conn, "/identity/v3")
        assert response.status == 200 and json.loads(body)["version"]["id"] == "v3.14"
    finally:
        conn.close()


def test_a_body_too_big_to_read_off_closes_the_connection_after_the_answer(cloud, admin):
    size = MAX_DRAIN_BYTES + 1
    request = (
        b"POST /compute/v2.1/servers HTTP/1.1\r\nHost: x\r\nX-Auth-Token: "
        + admin.token.encode()
        + b"\r\nContent-Type: application/json\r\nContent-Length: "
        + str(size).encode()
        + b"\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", cloud.port), timeout=10) as sock:
        sock.sendall(request + b" " * size)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413") and b"Connection: close" in head
    assert json.loads(body)["overLimit"]["code"] == 413


@pytest.mark.parametrize(
    "request_line, headers",
    [
        (b"GET /identity/v3 HTTP/1.0", b""),  # HTTP/1.0 closes unless asked otherwise
        (b"GET /identity/v3 HTTP/1.1", b"Connection: close\r\n"),
    ],
)
def test_connection_closes_when_the_client_says_so(cloud, request_line, headers):
    with socket.create_connection(("127.0.0.1", cloud.port), timeout=10) as sock:
        sock.sendall(request_line + b"\r\nHost: x\r\n" + headers + b"\r\n")
        data = b""
        while chunk := sock.recv(65536):  # ends: the server closed
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert b" 200 " in head.split(b"\r\n")[0]
    assert json.loads(body)["version"]["id"] == "v3.14"


def test_http_1_0_keep_alive_is_answered_as_such(cloud):
    conn = _connection(cloud.port)
    conn._http_vsn, conn._http_vsn_str = 10, "HTTP/1.0"
    try:
        response, _ = _get(conn, "/identity/v3", {"Connection": "keep-alive"})
        assert response.status == 200 and response.getheader("Connection") == "keep-alive"
        response, _ = _get(conn, "/identity/v3", {"Connection": "keep-alive"})
        assert response.status == 200
    finally:
        conn.close()


@pytest.fixture
def short_lived():
    """A fake whose idle connections close after 0.3 s."""
    cloud = FakeCloud(computes=1)
    server = HttpServer(build_app(cloud.backend, cloud.control), keep_alive_timeout=0.3)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(short_lived):
    with socket.create_connection(("127.0.0.1", short_lived.port), timeout=10) as sock:
        sock.sendall(b"GET /identity/v3 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        start = time.monotonic()
        assert sock.recv(65536) == b""  # the server closed it
        assert 0.2 < time.monotonic() - start < 5
    deadline = time.monotonic() + 5
    while short_lived.server._connections and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not short_lived.server._connections  # and its thread ended


def test_stop_is_prompt_with_an_idle_keep_alive_connection_open():
    cloud = FakeCloud(computes=1).start()
    before = {t.ident for t in threading.enumerate()}
    conn = _connection(cloud.port)
    try:
        response, _ = _get(conn, "/identity/v3")
        assert response.status == 200
        handlers = [t for t in threading.enumerate() if t.ident not in before]
        assert handlers, "the open connection's server thread"
        start = time.monotonic()
        cloud.stop()
        assert time.monotonic() - start < 1.0
        assert not any(t.is_alive() for t in handlers)
        assert conn.sock.recv(1) == b""  # the client sees the connection closed
    finally:
        conn.close()
        cloud.stop()


def test_token_request_over_keep_alive_still_works(cloud):
    """Keystone's 201 with a body and the token in a header, twice over one session."""
    import requests

    session = requests.Session()
    cfg = cloud.cloud_config()["auth"]
    for _ in range(2):
        resp = token_request(
            cfg["auth_url"],
            cfg["username"],
            cfg["password"],
            cfg["project_name"],
            session=session,
        )
        assert resp.status_code == 201 and resp.headers["X-Subject-Token"]


def test_sdk_connection_ignores_proxy_settings_of_the_environment(cloud, monkeypatch):
    """The fake is on 127.0.0.1: an HTTP_PROXY without NO_PROXY must not reroute it."""
    with socket.socket() as dead:  # a port nothing answers on
        dead.bind(("127.0.0.1", 0))
        proxy = f"http://127.0.0.1:{dead.getsockname()[1]}"
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("http_proxy", proxy)
    sdk = cloud.connect()
    try:
        assert any(f.name == "m1.tiny" for f in sdk.compute.flavors())
    finally:
        sdk.close()


def test_expect_100_continue_gets_one_interim_answer(cloud, admin):
    body = json.dumps({"server": {"name": "x"}}).encode()
    with socket.create_connection(("127.0.0.1", cloud.port), timeout=10) as sock:
        sock.sendall(
            b"POST /compute/v2.1/servers HTTP/1.1\r\nHost: x\r\nX-Auth-Token: "
            + admin.token.encode()
            + b"\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n"
            + b"Content-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
        )
        assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 400") and b"100 Continue" not in data


def test_stop_waits_for_requests_in_flight_at_most_a_bounded_time_in_all():
    """Requests still in the application when the server stops get a bounded grace
    period together, not one each."""
    release, inside = threading.Event(), threading.Semaphore(0)

    def slow_app(environ, start_response):
        inside.release()
        release.wait(timeout=30)
        start_response("200 OK", [("Content-Length", "2")])
        return [b"{}"]

    server = HttpServer(slow_app)
    server.start()
    clients = [
        threading.Thread(target=_get_quietly, args=(server.port,), daemon=True) for _ in range(3)
    ]
    stopped = False
    try:
        for client in clients:
            client.start()
        for _ in clients:
            assert inside.acquire(timeout=10)
        start = time.monotonic()
        server.stop()
        stopped = True
        assert time.monotonic() - start < STOP_JOIN_SECONDS + 1.5
    finally:
        release.set()
        if not stopped:
            server.stop()


def _get_quietly(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", "/")
        conn.getresponse().read()
    except OSError:
        pass
    finally:
        conn.close()


def test_stopping_wakes_the_accept_loop_which_never_polls():
    """The accept loop waits without a timeout: only `stop_serving`'s wake-up can end it,
    so stopping never waits for a poll interval. A server never started stops too."""
    cloud = FakeCloud(computes=1)
    server = HttpServer(build_app(cloud.backend, cloud.control))
    server.start()
    accept_loop = server._thread
    server.server.stop_serving(wait=10)
    assert not accept_loop.is_alive()
    server.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
    never_started = HttpServer(build_app(cloud.backend, cloud.control))
    never_started.stop()
    assert never_started.server.fileno() == -1  # its listening socket is closed
