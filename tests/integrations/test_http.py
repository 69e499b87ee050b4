"""The default transport of the vendor clients, on requests, against a local HTTP server: errors are
answers, a vendor that does not answer is Unavailable, and the client's own Authorization is sent."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from webapp.integrations.harvest import HarvestAuthError, HarvestClient, HarvestUnavailable
from webapp.integrations.http import RequestsTransport


class Vendor(BaseHTTPRequestHandler):
    """Answers /users/1 with a user, /refused with 401, and records the Authorization it was sent."""

    seen = []

    def do_GET(self):
        Vendor.seen.append(self.headers.get("Authorization"))
        if self.path.startswith("/users/1"):
            status, body = 200, {"id": 1, "name": "Pat"}
        else:
            status, body = 401, {"message": "Invalid Basic Auth credentials"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def vendor_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Vendor)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_requests_transport_answers_status_headers_and_body_errors_included(vendor_url):
    transport = RequestsTransport()
    status, headers, body = transport("GET", f"{vendor_url}/users/1", {"Accept": "application/json"})
    assert (status, headers["Content-Type"], json.loads(body)) == (200, "application/json", {"id": 1, "name": "Pat"})
    status, _, body = transport("GET", f"{vendor_url}/refused", {})
    assert (status, json.loads(body)["message"]) == (401, "Invalid Basic Auth credentials")


def test_a_client_on_the_default_transport_sends_its_key_and_raises_the_vendors_errors(
    vendor_url, tmp_path, monkeypatch
):
    # A ~/.netrc entry for the vendor's host does not take the place of the client's key.
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone-else password theirs\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    Vendor.seen.clear()
    client = HarvestClient("harvest-key", base_url=vendor_url)
    assert client.user(1) == {"id": 1, "name": "Pat"}
    assert Vendor.seen == ["Basic aGFydmVzdC1rZXk6"]  # base64 of "harvest-key:"
    with pytest.raises(HarvestAuthError, match="Harvest answered 401: Invalid Basic Auth credentials"):
        client.get("/refused")


def test_a_vendor_that_does_not_answer_is_unavailable():
    with socket.socket() as unused:  # a port nothing listens on once this closes: refused
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    closed = HarvestClient("harvest-key", base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(HarvestUnavailable, match="Harvest did not answer: no answer"):
        closed.user(1)
