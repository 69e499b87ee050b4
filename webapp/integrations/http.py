"""The HTTP boundary of the vendor clients: a transport is `(method, url, headers) -> (status, headers, body)`.

Clients take a transport so tests can serve documented responses without a network.
"""

import urllib.error
import urllib.request

DEFAULT_TIMEOUT_SECONDS = 30


def urllib_transport(method, url, headers, timeout=DEFAULT_TIMEOUT_SECONDS):
    """Send a request with the standard library; HTTP errors are answers, not exceptions."""
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https URLs of the vendor)
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


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
