"""Who is asking: a signed-in session for pages, a Bearer token (and only that) for the JSON API.

The API is exempt from CSRF, so it must never accept the session cookie.

A session (and a remember-me cookie) names the user by `User.get_id()`: id, the user's session
token and when the sign-in was made. The loader below checks all three on every request, so a new
token (sign-out, a new password, an admin disabling the user) ends every session of the user at
once, and no sign-in outlives REMEMBER_COOKIE_DURATION, whatever a copied cookie says.
"""

import datetime as dt
import hmac
import threading
import time
from functools import wraps

from flask import abort, current_app, g, request

from .extensions import login_manager
from .models import ApiToken, User, utcnow

LAST_USED_PRECISION = dt.timedelta(minutes=1)
# The tokens this process noted the use of lately: token hash -> time.monotonic() when.
_noted_at = {}
_noted_mutex = threading.Lock()


def init_app(app):
    """Load a session's user with load_user, which checks the sign-in still holds."""
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)


def load_user(session_id):
    """The user a session or remember-me cookie names, if that sign-in still holds; else None."""
    user_id, _, rest = str(session_id).partition(":")
    token, _, signed_in_at = rest.partition(":")
    if not (user_id.isdigit() and token and signed_in_at.isdigit()):
        return None  # a cookie from before session tokens, or not one of ours
    age = utcnow() - dt.datetime.fromtimestamp(int(signed_in_at), dt.UTC)
    if age > sign_in_lifetime(current_app):
        return None
    user = User.signed_in(int(user_id))
    if user is None or not user.is_active or not hmac.compare_digest(user.session_token, token):
        return None
    user.signed_in_at = int(signed_in_at)
    return user


def sign_in_lifetime(app):
    """How long a sign-in lasts at most: the remember-me cookie's duration."""
    duration = app.config["REMEMBER_COOKIE_DURATION"]
    return duration if isinstance(duration, dt.timedelta) else dt.timedelta(seconds=duration)


def _bearer_user():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = ApiToken.find(token.strip())
    if row is None or not row.user.is_active:
        return None
    now = utcnow()
    # Noting every use would make each API call a write; a minute's precision is enough.
    if (row.last_used_at is None or now - row.last_used_at > LAST_USED_PRECISION) and _first_to_note(row.token_hash):
        ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
    return row.user


def _first_to_note(token_hash):
    """True for one request per token, process and LAST_USED_PRECISION: the requests that find
    the use unnoted at once (all those that arrive while the first one's write waits for
    SQLite's lock) must not each write it too."""
    clock = time.monotonic()
    with _noted_mutex:
        if clock - _noted_at.get(token_hash, -1e18) < LAST_USED_PRECISION.total_seconds():
            return False
        if len(_noted_at) > 10_000:  # tokens this process has not seen for a while: forget them
            _noted_at.clear()
        _noted_at[token_hash] = clock
        return True


def token_required(view):
    """Run the view with g.user and g.account from the Bearer token, or answer 401 (which the API's
    error handler words in JSON)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = _bearer_user()
        if user is None:
            abort(401)
        g.user = user
        g.account = user.account
        return view(*args, **kwargs)

    return wrapped
