"""Error pages in the app's look: 403, 404 and 500 as pages, as a notice for htmx, as JSON for the API."""

import pytest

from tests.helpers import HTMX, sign_in, sign_in_coordinator
from webapp.models import Task


@pytest.fixture
def broken_list(app, monkeypatch):
    """The task list fails with a bug; the app answers as it would in production."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def fail(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(Task, "open_counts", fail)


def _in_the_apps_look(html):
    return "css/docket.css" in html and 'class="brand"' in html and "Back to your tasks" in html


def test_a_server_error_is_a_page_in_the_apps_look_that_gives_nothing_away(client, make_account, broken_list, caplog):
    acme = make_account("Acme")
    sign_in(client, acme.user.email)
    response = client.get("/tasks")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in html and _in_the_apps_look(html)
    assert "RuntimeError" not in html and "a bug" not in html
    assert any("a bug" in str(record.exc_info[1]) for record in caplog.records if record.exc_info)  # logged


def test_a_server_error_under_htmx_is_a_notice(client, make_account, broken_list):
    acme = make_account("Acme")
    sign_in(client, acme.user.email)
    response = client.get("/tasks", headers=HTMX)
    assert response.status_code == 500
    assert response.headers["HX-Retarget"] == "#notice"
    assert "<html" not in response.get_data(as_text=True)


def test_forbidden_and_not_found_are_pages_in_the_apps_look(client, make_account):
    acme = make_account("Acme")
    sign_in_coordinator(client, acme.account)
    forbidden = client.get("/admin/rules")
    assert forbidden.status_code == 403 and _in_the_apps_look(forbidden.get_data(as_text=True))
    assert "You can’t open this" in forbidden.get_data(as_text=True)
    missing = client.get("/tasks/999999")
    assert missing.status_code == 404 and _in_the_apps_look(missing.get_data(as_text=True))


def test_api_errors_are_json(client, make_account):
    acme = make_account("Acme")
    response = acme.get("/api/tasks/999999")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
