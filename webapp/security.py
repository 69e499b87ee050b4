"""Browser-facing safety: security headers with a strict Content-Security-Policy, and the
throttle that slows down repeated failed sign-ins (its state lives in Redis, shared by all
web processes)."""

import hashlib
import logging
import math
from urllib.parse import urlsplit

import redis
from flask import current_app, request
from werkzeug.urls import iri_to_uri

from .queue import redis_connection

log = logging.getLogger(__name__)

# No 'unsafe-inline' or 'unsafe-eval': htmx is configured by a meta tag and never evaluates code.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

# Failed sign-ins allowed for one e-mail (or one client address) before each further attempt
# must wait, and how the wait grows: 2, 4, 8 … seconds, at most LOCK_MAX_SECONDS.
FREE_FAILURES_PER_EMAIL = 5
FREE_FAILURES_PER_ADDRESS = 20
FAILURE_WINDOW_SECONDS = 15 * 60
LOCK_MAX_SECONDS = 15 * 60


def init_app(app):
    """Add the security headers to every response, and Secure to every cookie sent over https."""
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if response.mimetype == "text/html" and "Cache-Control" not in headers:
            # Pages show a coordinator's tasks: never keep them in shared caches.
            headers["Cache-Control"] = "private, no-store"
        return response


class SecureCookiesOverHttps:
    """WSGI middleware: served over https, every cookie (the session's, remember-me's) is marked
    Secure, whatever SESSION_COOKIE_SECURE says. Middleware, because Flask writes the session's
    cookie after the app's own after-request hooks have run."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def start_secure(status, headers, exc_info=None):
            headers = [
                (name, value + "; Secure")
                if name.lower() == "set-cookie" and "; secure" not in value.lower()
                else (name, value)
                for name, value in headers
            ]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start_secure)


class LoginThrottle:
    """Counts failed sign-ins per e-mail and per client address, and says how long to wait."""

    def __init__(self, connection=None):
        self.connection = connection or redis_connection()
        self.prefix = f"docket:{current_app.config['QUEUE_NAME']}:login"

    def _keys(self, email, address):
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return [
            (f"{self.prefix}:email:{digest}", FREE_FAILURES_PER_EMAIL),
            (f"{self.prefix}:addr:{address}", FREE_FAILURES_PER_ADDRESS),
        ]

    def wait_seconds(self, email, address):
        """Seconds before this sign-in may be tried again; 0 when it may be tried now."""
        try:
            waits = [self.connection.pttl(f"{key}:lock") for key, _ in self._keys(email, address)]
        except redis.RedisError as exc:
            # Signing in matters more than slowing guessers down while Redis is away.
            log.warning("login throttle unavailable: %s", exc)
            return 0
        return max([math.ceil(ms / 1000) for ms in waits if ms and ms > 0] or [0])

    def failed(self, email, address):
        """Record a failed sign-in; past the free failures, lock further attempts for a while."""
        try:
            for key, free in self._keys(email, address):
                failures = self.connection.incr(key)
                self.connection.expire(key, FAILURE_WINDOW_SECONDS)
                if failures > free:
                    lock = min(2 ** (failures - free), LOCK_MAX_SECONDS)
                    self.connection.set(f"{key}:lock", 1, ex=lock)
        except redis.RedisError as exc:
            log.warning("login throttle unavailable: %s", exc)

    def succeeded(self, email, address):
        """A right password clears the e-mail's failures (the address keeps its count)."""
        key, _ = self._keys(email, address)[0]
        try:
            self.connection.delete(key, f"{key}:lock")
        except redis.RedisError as exc:
            log.warning("login throttle unavailable: %s", exc)


def client_address():
    """The address a request comes from (behind a proxy, configure ProxyFix so this is the client's)."""
    return request.remote_addr or "unknown"


def safe_next(target, default):
    """A redirect target only if it stays on this site: a path (not //host, a scheme or a
    backslash), judged as the Location header werkzeug will send (it drops tabs and newlines
    and percent-encodes the rest), so anything that changes on the way is refused, not fixed."""
    if not target or any(ch.isspace() or ch == "\\" or not ch.isprintable() for ch in target):
        return default
    location = iri_to_uri(target)
    parts = urlsplit(location)
    if parts.scheme or parts.netloc or not location.startswith("/") or location.startswith("//"):
        return default
    return location
