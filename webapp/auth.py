"""Who is asking: a signed-in session for pages, a Bearer token (and only that) for the JSON API.

The API is exempt from CSRF, so it must never accept the session cookie.
"""

import datetime as dt
from functools import wraps

from flask import g, jsonify, request

from .extensions import login_manager
from .models import ApiToken, User, utcnow

LAST_USED_PRECISION = dt.timedelta(minutes=1)


def init_app(app):
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id):
        return User.signed_in(int(user_id)) if str(user_id).isdigit() else None


def _bearer_user():
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = ApiToken.find(token.strip())
    if row is None:
        return None
    now = utcnow()
    # Noting every use would make each API call a write; a minute's precision is enough.
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_PRECISION:
        ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
    return row.user


def token_required(view):
    """Run the view with g.user and g.account from the Bearer token, or answer a JSON 401."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        user = _bearer_user()
        if user is None:
            response = jsonify(error="unauthorized", message="a valid Bearer token is required")
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="docket"'
            return response
        g.user = user
        g.account = user.account
        return view(*args, **kwargs)

    return wrapped
