"""Serve the API locally through Chalice's own ``LocalDevServer``, fast and gateway-shaped.

    python -m ops.local_server --stage local --port 8000   (scripts/run does this)

``chalice local --stage local`` runs the same app and stays the documented way
to run it by hand; this differs only where its HTTP server costs time or
answers unlike API Gateway:

- Kept-alive connections (every browser's) wait ~40 ms per request under
  ``chalice local``: it writes headers and body in two sends without
  ``TCP_NODELAY``, so the body waits for the client's delayed ACK (Nagle).
  Here every accepted socket sets ``TCP_NODELAY``.
- ``chalice local`` listens with a backlog of 5, so a burst of new connections
  (40 concurrent logins) is reset before the app sees it. Here it is 128.
- A method the server has no handler for (TRACE, CONNECT, anything unknown)
  gets Python's 501 HTML page under ``chalice local``; API Gateway answers a
  method no route defines with 403 ``{"message": "Missing Authentication Token"}``.
- API Gateway's own 4xx answers carry CORS headers once deployed (the
  template's gateway responses); ``chalice local``'s do not, e.g. its 401 for a
  guarded route called without ``Authorization``, which it gives before the
  authorizer runs. Here every gateway error carries them, and
  ``Cache-Control: no-store`` as every API answer does.

Binds 127.0.0.1 unless told otherwise; no autoreload (writes to the local
SQLite file would restart it).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any

from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    ForbiddenError,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
    ThreadedHTTPServer,
)

ROOT = Path(__file__).resolve().parent.parent
BACKLOG = 128
# The methods API Gateway routes (and chalice local's handler implements).
GATEWAY_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class FastThreadedHTTPServer(ThreadedHTTPServer):
    """Chalice's threaded server with ``TCP_NODELAY`` on every connection and a deep backlog."""

    request_queue_size = BACKLOG
    allow_reuse_address = True

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


class GatewayRequestHandler(ChaliceRequestHandler):
    """Chalice's handler, answering as API Gateway where chalice local does not."""

    def __getattr__(self, name: str) -> Any:
        # BaseHTTPRequestHandler looks up ``do_<METHOD>`` and sends a 501 HTML page
        # when it is missing; every method API Gateway would not route lands here.
        if name.startswith("do_") and name[3:] not in GATEWAY_METHODS:
            return self._refuse_method
        raise AttributeError(name)

    def _refuse_method(self) -> None:
        self._parse_payload()  # read any body, so a kept-alive connection stays in step
        self._send_error_response(ForbiddenError(
            {"x-amzn-ErrorType": "MissingAuthenticationTokenException"},
            b'{"message":"Missing Authentication Token"}',
        ))

    def _send_error_response(self, error: LocalGatewayException) -> None:
        from chalicelib.responses import gateway_headers

        # As the deploy template's DEFAULT_4XX/5XX gateway responses do.
        error.headers = {"Content-Type": "application/json", **gateway_headers(),
                         **error.headers}
        super()._send_error_response(error)


def make_server(stage: str, host: str, port: int, project_dir: Path = ROOT) -> LocalDevServer:
    """The app of ``stage`` (its environment applied as chalice local applies it), bound."""
    from chalice.cli.factory import CLIFactory

    # environ=os.environ, as the chalice CLI passes it: the stage's variables are set
    # in this process, where the app reads them (the default is a private copy).
    factory = CLIFactory(str(project_dir), debug=False, environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=stage)
    app = config.chalice_app  # imports app.py with the stage's environment variables set
    # What chalice.local.create_local_server does: a request per thread, not per process.
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, handler_cls=GatewayRequestHandler,
                          server_cls=FastThreadedHTTPServer)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.local_server",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--stage", default="local", help="stage in .chalice/config.json")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    os.chdir(ROOT)  # as chalice does: the stages' relative paths (.data) start here
    # Lambda's stdout logging, as `chalice local` configures it.
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    server = make_server(args.stage, args.host, args.port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
