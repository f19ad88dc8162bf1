"""The request path of the batch keywords: the worker threads share each cloud
connection's pool of kept-alive TCP connections, sized to the concurrency, with one
token and one version discovery per service, however many requests they send."""

from __future__ import annotations

import logging
import time

from benchmarks.many_moves import unlimited_quota


def test_a_load_run_reuses_connections_token_and_discovery(make_lib, monkeypatch, caplog):
    lib = make_lib(computes=6)
    unlimited_quota(lib)
    lib.run_live_migration_load(iterations=2, concurrency=2)  # opens every connection
    server = lib._ctx.fake._http.server
    accepted, requests = [], []
    process, app = server.process_request, server.app

    def counting_connections(request, client_address):
        accepted.append(client_address)
        return process(request, client_address)

    def counting_requests(environ, start_response):
        requests.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        if environ["REQUEST_METHOD"] != "GET":
            time.sleep(0.02)  # as a real API takes a while: the workers' requests overlap
        return app(environ, start_response)

    monkeypatch.setattr(server, "process_request", counting_connections)
    monkeypatch.setattr(server, "app", counting_requests)
    concurrency = 12  # more than requests' default pool of 10 connections
    with caplog.at_level(logging.WARNING, logger="urllib3"):
        run = lib.run_live_migration_load(iterations=36, concurrency=concurrency)
    assert run.failures == 0, run.errors
    assert len(requests) > 3 * 36  # create, live-migrate, delete each, and the polls
    assert not [r for r in requests if "auth/tokens" in r[1]]  # no new token
    versions = [r for r in requests if r[1].rstrip("/") in ("/compute", "/compute/v2.1")]
    assert not versions  # no version discovery again
    # at most one connection per request in flight, per cloud connection (admin, user)
    assert len(accepted) <= 2 * concurrency, len(accepted)
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()]
