"""The HTTP boundary of the vendor clients: a transport is `(method, url, headers) -> (status, headers, body)`,
and `VendorClient` is what the clients of the vendors' APIs (Harvest, Lever) share on top of it.

Clients take a transport so tests can serve documented responses without a network.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from urllib.parse import urlencode

import requests
from flask import current_app, has_app_context
from requests.auth import AuthBase

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 30


class _HeadersAuth(AuthBase):
    """The client's own `Authorization` header, as it is: without an auth, requests would put a
    ~/.netrc entry for the vendor's host in its place."""

    def __call__(self, request):
        return request


class RequestsTransport:
    """Send requests on one `requests.Session` (its connections kept between a client's calls);
    HTTP errors are answers, not exceptions. No answer raises OSError (requests' errors are OSErrors)."""

    def __init__(self, timeout=DEFAULT_TIMEOUT_SECONDS):
        self.timeout = timeout
        self.session = requests.Session()
        self.session.auth = _HeadersAuth()

    def __call__(self, method, url, headers):
        response = self.session.request(method, url, headers=headers, timeout=self.timeout)
        return response.status_code, dict(response.headers), response.content


def header(headers, name, default=None):
    """A response header by case-insensitive name."""
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return value
    return default


def retry_after_seconds(headers, default):
    """How long a 429's `Retry-After` header (in seconds) says to wait, else the default."""
    try:
        return max(0.0, float(header(headers, "Retry-After")))
    except (TypeError, ValueError):
        return default


def next_link(link_header):
    """The rel="next" URL of an RFC 8288 `Link` header, or None."""
    for part in (link_header or "").split(","):
        url, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", "") or "rel=next" in params.replace(" ", ""):
            return url.strip().strip("<>")
    return None


def error_message(body):
    """The `message` of a vendor's JSON error body, else the start of a body that is not JSON."""
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return (body or b"")[:200].decode(errors="replace")
    return data.get("message") if isinstance(data, dict) else None


class VendorError(Exception):
    """A vendor's API answered with an error. Subclasses name the vendor in `vendor`."""

    vendor = "The vendor"

    def __init__(self, status, message):
        if status:
            super().__init__(f"{self.vendor} answered {status}: {message}")
        else:
            super().__init__(f"{self.vendor} did not answer: {message}")
        self.status = status
        self.message = message


class VendorAuthError(VendorError):
    """The vendor refused the API key (401) or its permissions (403)."""


class VendorUnavailable(VendorError):
    """The vendor did not answer (no connection, a time-out) or answered with a server error (5xx)."""


def vendor_errors(vendor, module):
    """A vendor's three exceptions, each also the generic one: `<vendor>Error` (an error answered),
    `<vendor>AuthError` (the key or its permissions refused) and `<vendor>Unavailable` (no answer,
    or a 5xx)."""

    def made(name, bases, doc):
        return type(f"{vendor}{name}", bases, {"__doc__": doc, "__module__": module})

    error = made("Error", (VendorError,), f"{vendor} answered with an error.")
    error.vendor = vendor
    auth = made("AuthError", (error, VendorAuthError), f"{vendor} refused the API key (401) or its permissions (403).")
    unavailable = made("Unavailable", (error, VendorUnavailable), f"{vendor} did not answer, or answered a 5xx.")
    return error, auth, unavailable


class VendorClient:
    """A vendor's JSON API behind HTTP Basic auth with the API key as user name: requests retried
    as a 429's `Retry-After` says (a bounded number of times), error answers raised as the
    vendor's own exceptions (`Error`, `AuthError`, `Unavailable`)."""

    BASE_URL = ""
    MAX_RETRIES = 5
    DEFAULT_RETRY_AFTER_SECONDS = 1
    Error = VendorError
    AuthError = VendorAuthError
    Unavailable = VendorUnavailable

    # Tests put a fake transport in <SETTINGS>_TRANSPORT and a sleep in <SETTINGS>_SLEEP.
    SETTINGS = ""

    @classmethod
    def of(cls, integration, transport=None, sleep=None):
        """A client with the integration's key, on the app's transport and sleep where one is set."""
        if has_app_context():
            transport = transport or current_app.config.get(f"{cls.SETTINGS}_TRANSPORT")
            sleep = sleep or current_app.config.get(f"{cls.SETTINGS}_SLEEP")
        return cls(integration.api_key, transport=transport, sleep=sleep or time.sleep)

    def __init__(self, api_key, transport=None, sleep=time.sleep, base_url=None):
        self.api_key = api_key
        self.transport = transport or RequestsTransport()
        self.sleep = sleep
        self.base_url = (base_url or self.BASE_URL).rstrip("/")

    def _headers(self):
        token = base64.b64encode(f"{self.api_key}:".encode()).decode()
        return {"Authorization": f"Basic {token}", "Accept": "application/json"}

    def url(self, path, **params):
        """The URL of a path of the API, with the parameters that are not None as its query."""
        query = urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def request(self, url, method="GET"):
        """The answer's headers and its JSON, after waiting out rate limits; errors raise."""
        vendor = self.Error.vendor
        for attempt in range(self.MAX_RETRIES + 1):
            try:
                status, headers, body = self.transport(method, url, self._headers())
            except OSError as exc:  # requests' ConnectionError and Timeout, refused connections
                raise self.Unavailable(None, f"no answer ({exc})") from exc
            if status == 429 and attempt < self.MAX_RETRIES:
                seconds = retry_after_seconds(headers, self.DEFAULT_RETRY_AFTER_SECONDS)
                log.info("%s rate limit: waiting %ss", vendor, seconds)
                self.sleep(seconds)
                continue
            if status in (401, 403):
                raise self.AuthError(status, error_message(body) or "the API key was refused")
            if status >= 500:
                raise self.Unavailable(status, error_message(body) or "server error")
            if status >= 400:
                raise self.Error(status, error_message(body) or "request failed")
            try:
                return headers, json.loads(body or b"null")
            except ValueError as exc:
                raise self.Unavailable(status, "an answer that is not JSON") from exc
        raise self.Error(429, "still rate limited after retries")
