"""ops.local_server: Chalice's LocalDevServer made fast for browsers and shaped like API Gateway."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler

import pytest

from ops.local_server import BACKLOG, FastThreadedHTTPServer
from tests import servers
from tests.helpers import WEB_ORIGIN
from tests.http_client import request


class _Ok(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_: object) -> None:
        """Quiet."""


@pytest.fixture
def bare_server() -> Iterator[FastThreadedHTTPServer]:
    """The server class alone on a free loopback port, not yet accepting."""
    server = FastThreadedHTTPServer(("127.0.0.1", 0), _Ok)
    yield server
    server.server_close()


def test_accepted_connections_set_tcp_nodelay(bare_server: FastThreadedHTTPServer) -> None:
    with socket.create_connection(bare_server.server_address, timeout=5):
        accepted, _ = bare_server.get_request()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_backlog_holds_40_connections_before_any_is_accepted(
    bare_server: FastThreadedHTTPServer,
) -> None:
    # Nothing accepts yet: only the listen backlog completes the handshakes (with
    # chalice local's backlog of 5 the rest would time out here).
    assert BACKLOG >= 40
    clients = [socket.create_connection(bare_server.server_address, timeout=2)
               for _ in range(40)]
    serving = threading.Thread(target=bare_server.serve_forever, daemon=True)
    serving.start()
    try:
        for client in clients:
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answers = [client.recv(64) for client in clients]
        assert all(answer.startswith(b"HTTP/1.1 200") for answer in answers)
    finally:
        bare_server.shutdown()
        for client in clients:
            client.close()


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with servers.sqlite_api(tmp_path_factory.mktemp("local-server")) as url:
        yield url


def test_40_concurrent_new_connections_are_all_answered(api_url: str) -> None:
    port = int(api_url.rsplit(":", 1)[1])
    gate = threading.Barrier(40)

    def health(_: int) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        gate.wait()
        try:
            connection.request("GET", "/health", headers={"Connection": "close"})
            return connection.getresponse().status
        finally:
            connection.close()

    with ThreadPoolExecutor(40) as pool:
        assert list(pool.map(health, range(40))) == [200] * 40


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "BREW"])
def test_a_method_no_route_takes_is_api_gateways_json_403(api_url: str, method: str) -> None:
    port = int(api_url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, "/messages", body=b"{}")
        response = connection.getresponse()
        body = response.read()
        assert response.status == 403
        assert response.getheader("Content-Type") == "application/json"
        assert json.loads(body) == {"message": "Missing Authentication Token"}
        assert response.getheader("Access-Control-Allow-Origin") == WEB_ORIGIN
        connection.request("GET", "/health")  # the kept-alive connection still works
        assert connection.getresponse().status == 200
    finally:
        connection.close()


def test_guarded_route_without_authorization_is_401_with_cors(api_url: str) -> None:
    reply = request("GET", api_url + "/messages")
    assert reply.status == 401
    assert reply.body == {"message": "Unauthorized"}
    assert reply.headers["Access-Control-Allow-Origin"] == WEB_ORIGIN


def test_unknown_route_is_403_with_cors(api_url: str) -> None:
    reply = request("GET", api_url + "/does-not-exist")
    assert reply.status == 403
    assert reply.body == {"message": "Missing Authentication Token"}
    assert reply.headers["Access-Control-Allow-Origin"] == WEB_ORIGIN

