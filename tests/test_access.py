"""Who may reach what: every page and action sends a signed-out visitor to sign in (htmx requests
by HX-Redirect), every API route wants a Bearer token, and the lists below cover every route."""

import pytest

from tests.helpers import HTMX, csrf_from, sign_in
from tests.test_admin_rules import ADMIN_ROUTES
from webapp.models import Event, Integration, RulebookVersion, Schedule, Task

PAGE_ROUTES = [
    ("get", "/tasks"),
    ("get", "/tasks/updates"),
    ("get", "/tasks/stream"),
    ("get", "/tasks/1"),
    ("post", "/tasks/1/complete"),
    ("post", "/tasks/1/reopen"),
    ("post", "/tasks/1/snooze"),
    ("post", "/tasks/1/wake"),
    ("post", "/tasks/1/dismiss"),
    ("post", "/tasks/bulk"),
    ("post", "/tasks/view"),
    ("get", "/schedules/new"),
    ("post", "/schedules/new"),
    ("post", "/schedules/check"),
    ("get", "/schedules/sch_1/edit"),
    ("post", "/schedules/sch_1/edit"),
    ("get", "/schedules/sch_1/cancel"),
    ("post", "/schedules/sch_1/cancel"),
    ("post", "/schedules/sch_1/restore"),
    ("get", "/schedules/candidate/cand-1"),
    ("get", "/setup/jobs/1"),
    ("post", "/setup/jobs/1"),
    ("get", "/setup/stages/1"),
    ("post", "/setup/stages/1"),
    ("get", "/setup/interviews/1"),
    ("post", "/setup/interviews/1"),
    ("get", "/setup/rooms"),
    ("post", "/setup/rooms"),
    ("post", "/logout"),
    ("get", "/account/password"),
    ("post", "/account/password"),
    ("get", "/account/profile"),
    ("post", "/account/profile"),
    ("post", "/account/absences"),
    ("get", "/absences/1/edit"),
    ("post", "/absences/1/edit"),
    ("post", "/absences/1/end"),
    ("post", "/absences/1/delete"),
    ("post", "/account/notifications"),
    ("post", "/admin/notifications"),
    ("get", "/team"),
    ("get", "/team/overdue.csv"),
    *ADMIN_ROUTES,
]
API_ROUTES = [
    ("get", "/api/tasks"),
    ("get", "/api/tasks/1"),
    ("post", "/api/tasks/1/complete"),
    ("post", "/api/tasks/1/reopen"),
    ("post", "/api/tasks/1/snooze"),
    ("post", "/api/tasks/1/wake"),
    ("post", "/api/tasks/1/dismiss"),
    ("post", "/api/events"),
    ("get", "/api/team"),
]
# Open on purpose: sign-in itself, the home redirect, static files, the health check, the liveness
# and readiness probes, /metrics (its own token, or this host: tests/test_ops.py), and the
# webhooks, which vendors reach with their own signature, channel token or client state.
OPEN_ENDPOINTS = {"auth.login", "auth.login_post", "tasks.home", "static", "api.health"}
OPEN_ENDPOINTS |= {"ops.healthz", "ops.readyz", "ops.metrics"}
# An e-mail's one-click unsubscribe link (RFC 8058), which its signed token authorises.
OPEN_ENDPOINTS |= {"notifications.unsubscribe_confirm", "notifications.unsubscribe"}
OPEN_PREFIXES = ("webhooks.",)


def _endpoint(app, method, path):
    return app.url_map.bind("localhost").match(path, method=method.upper())[0]


def test_the_lists_cover_every_route_of_the_app(app):
    every = {
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
        if rule.endpoint not in OPEN_ENDPOINTS and not rule.endpoint.startswith(OPEN_PREFIXES)
    }
    listed = {(m.upper(), _endpoint(app, m, p)) for m, p in PAGE_ROUTES + API_ROUTES}
    assert every == listed


def _nothing_changed():
    assert Task.select().count() == 0 and Schedule.select().count() == 0
    assert Integration.select().count() == 0 and RulebookVersion.select().count() == 0
    assert Event.select().count() == 0


@pytest.mark.parametrize("method, path", PAGE_ROUTES)
def test_a_signed_out_visitor_is_sent_to_sign_in(client, app, method, path):
    # A POST carries a valid token of the visitor's own session: sign-in, not CSRF, turns it away.
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = getattr(client, method)(path, data={"csrf_token": token} if method == "post" else None)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    assert response.headers["Location"].startswith("/login")
    _nothing_changed()


@pytest.mark.parametrize("method, path", PAGE_ROUTES)
def test_a_signed_out_htmx_request_is_redirected_by_hx_redirect(client, app, method, path):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = getattr(client, method)(path, headers={**HTMX, "X-CSRFToken": token})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")
    assert response.get_data(as_text=True) == ""  # never a sign-in form swapped into the page
    _nothing_changed()


@pytest.mark.parametrize("method, path", API_ROUTES)
def test_the_api_wants_a_bearer_token_even_from_a_signed_in_browser(client, make_account, method, path):
    acme = make_account("Acme")
    sign_in(client, acme.user.email)
    response = getattr(client, method)(path, json={} if method == "post" else None)
    assert response.status_code == 401
    assert "error" in response.get_json()
    response = getattr(client, method)(
        path, json={} if method == "post" else None, headers={"Authorization": "Bearer not-a-token"}
    )
    assert response.status_code == 401
