"""An API token's last use is noted to the minute, by one request of a process, not by every
request that finds it unnoted at once (each would be a write waiting for SQLite's lock)."""

import datetime as dt

from webapp import auth
from webapp.models import ApiToken, utcnow


def _last_used(handle):
    return ApiToken.get(ApiToken.user == handle.user).last_used_at


def test_a_tokens_use_is_noted_once_a_minute_per_process(make_account, monkeypatch):
    acme = make_account()
    assert _last_used(acme) is None
    assert acme.get("/api/tasks").status_code == 200
    first = _last_used(acme)
    assert first is not None and utcnow() - first < dt.timedelta(seconds=30)

    # Stale in the database (as it is, for every request, until the first one's write commits):
    # this process noted it less than a minute ago, so no other request writes it.
    stale = first - dt.timedelta(minutes=5)
    ApiToken.update(last_used_at=stale).execute()
    assert acme.get("/api/tasks").status_code == 200
    assert _last_used(acme) == stale

    # A minute on, the next request notes it again.
    clock = auth.time.monotonic() + auth.LAST_USED_PRECISION.total_seconds() + 1
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock)
    assert acme.get("/api/tasks").status_code == 200
    assert _last_used(acme) > stale + dt.timedelta(minutes=4)


def test_a_rejected_token_notes_nothing(client, make_account):
    acme = make_account()
    response = client.get("/api/tasks", headers={"Authorization": "Bearer dkt_not-a-token"})
    assert response.status_code == 401
    assert _last_used(acme) is None
