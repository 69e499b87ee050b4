"""Browser-facing safety: security headers with a strict Content-Security-Policy, safe redirect
targets, and the throttle that slows down repeated failed sign-ins (its state lives in Redis,
shared by all web processes, and in each process's memory while Redis is away)."""

import hashlib
import logging
import math
import threading
import time
from collections import OrderedDict
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

# Failed sign-ins allowed before each further attempt must wait, and how the wait grows: 2, 4,
# 8 … seconds, at most LOCK_MAX_SECONDS. Counted per client and e-mail (the client guessing), per
# client (guessing many e-mails) and per e-mail (guessing from many clients). The e-mail's lock
# holds back only clients that have failed on that e-mail themselves: the person whose e-mail it
# is, signing in from elsewhere, is never locked out by someone else's guesses.
FREE_FAILURES_PER_CLIENT_AND_EMAIL = 5
FREE_FAILURES_PER_CLIENT = 20
FREE_FAILURES_PER_EMAIL = 10
FAILURE_WINDOW_SECONDS = 15 * 60
LOCK_MAX_SECONDS = 15 * 60
# While Redis is away each web process counts on its own, in at most this many keys; and it
# asks Redis again only after this long, so a sign-in does not wait for a timeout every time.
FALLBACK_MAX_KEYS = 10_000
REDIS_RETRY_SECONDS = 30


def init_app(app):
    """Add the security headers to every response, and Secure to every cookie sent over https;
    keep the sign-in throttle's in-process counters for when Redis is away."""
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)
    app.extensions["docket_login_counters"] = LocalCounters()

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


class RedisCounters:
    """Failure counters and locks in Redis, shared by every web process."""

    def __init__(self, connection):
        self.connection = connection

    def add(self, key, window):
        """Count one more failure under key (forgotten `window` seconds after the last); the new count."""
        pipe = self.connection.pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, window)
        return pipe.execute()[0]

    def counts(self, keys):
        return [int(value or 0) for value in self.connection.mget(keys)]

    def lock(self, key, seconds):
        self.connection.set(f"{key}:lock", 1, ex=seconds)

    def locked_for(self, keys):
        """Seconds each key stays locked (0: not locked)."""
        pipe = self.connection.pipeline(transaction=False)
        for key in keys:
            pipe.pttl(f"{key}:lock")
        return [math.ceil(ms / 1000) if ms and ms > 0 else 0 for ms in pipe.execute()]

    def clear(self, key):
        self.connection.delete(key, f"{key}:lock")


class LocalCounters:
    """The same counters in this process's memory, for while Redis is away: at most `max_keys`
    keys (the least recently counted are dropped first), each forgotten when its time is up."""

    def __init__(self, max_keys=FALLBACK_MAX_KEYS, clock=time.monotonic):
        self.max_keys = max_keys
        self.clock = clock
        self.redis_retry_at = 0.0  # when to try Redis again after it failed
        self._entries = OrderedDict()  # key -> (value, expires at)
        self._mutex = threading.Lock()

    def __len__(self):
        return len(self._entries)

    def _get(self, key):
        entry = self._entries.get(key)
        if entry is not None and entry[1] <= self.clock():
            del self._entries[key]
            return None
        return entry

    def _put(self, key, value, seconds):
        self._entries[key] = (value, self.clock() + seconds)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_keys:
            self._entries.popitem(last=False)

    def add(self, key, window):
        with self._mutex:
            entry = self._get(key)
            count = (entry[0] if entry else 0) + 1
            self._put(key, count, window)
            return count

    def counts(self, keys):
        with self._mutex:
            return [entry[0] if (entry := self._get(key)) else 0 for key in keys]

    def lock(self, key, seconds):
        with self._mutex:
            self._put(f"{key}:lock", 1, seconds)

    def locked_for(self, keys):
        with self._mutex:
            now = self.clock()
            return [math.ceil(entry[1] - now) if (entry := self._get(f"{key}:lock")) else 0 for key in keys]

    def clear(self, key):
        with self._mutex:
            self._entries.pop(key, None)
            self._entries.pop(f"{key}:lock", None)


class LoginThrottle:
    """Counts failed sign-ins per client and e-mail, per client and per e-mail, and says how long
    a sign-in must wait. In Redis; in this process's memory while Redis is away."""

    def __init__(self, connection=None):
        self.redis = RedisCounters(connection or redis_connection())
        self.local = current_app.extensions["docket_login_counters"]
        self.prefix = f"docket:{current_app.config['QUEUE_NAME']}:login"

    def _keys(self, email, address):
        """The counters' keys and free failures: (client and e-mail, client, e-mail)."""
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        return [
            (f"{self.prefix}:pair:{digest}:{address}", FREE_FAILURES_PER_CLIENT_AND_EMAIL),
            (f"{self.prefix}:addr:{address}", FREE_FAILURES_PER_CLIENT),
            (f"{self.prefix}:email:{digest}", FREE_FAILURES_PER_EMAIL),
        ]

    def _counters(self, work):
        """Run work(counters) on Redis, or on the in-process counters while Redis is away."""
        if time.monotonic() >= self.local.redis_retry_at:
            try:
                return work(self.redis)
            except redis.RedisError as exc:
                log.warning("login throttle counts in this process while Redis is unavailable: %s", exc)
                self.local.redis_retry_at = time.monotonic() + REDIS_RETRY_SECONDS
        return work(self.local)

    def wait_seconds(self, email, address):
        """Seconds before this sign-in may be tried again; 0 when it may be tried now."""
        keys = [key for key, _ in self._keys(email, address)]

        def wait(counters):
            here, client, everywhere = counters.locked_for(keys)
            [failed_here] = counters.counts(keys[:1])
            return max(here, client, everywhere if failed_here else 0)

        return self._counters(wait)

    def failed(self, email, address):
        """Record a failed sign-in; past the free failures, lock further attempts for a while."""

        def count(counters):
            for key, free in self._keys(email, address):
                failures = counters.add(key, FAILURE_WINDOW_SECONDS)
                if failures > free:
                    counters.lock(key, min(2 ** (failures - free), LOCK_MAX_SECONDS))

        self._counters(count)

    def succeeded(self, email, address):
        """A right password clears this client's failures for the e-mail. The client's own count
        stays (signing in to one's own account must not reset guessing others'), and so does the
        e-mail's, until its window passes."""
        key, _ = self._keys(email, address)[0]
        self._counters(lambda counters: counters.clear(key))


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
