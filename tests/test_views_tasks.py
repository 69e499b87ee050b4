"""The coordinator's task list in the browser's terms: pages and htmx fragments, completing and
undoing, covering for a colleague, categories, live updates, task detail and access rules."""

import re

import pytest

from tests import events as ev
from webapp.models import Task, User
from webapp.pipeline import drain

HTMX = {"HX-Request": "true"}


def csrf_from(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, email, password="correct horse battery"):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)
    return csrf_from(client.get("/tasks").get_data(as_text=True))


def process(handle, *envelopes):
    for envelope in envelopes:
        assert handle.post_event(envelope).status_code == 202
    drain()


@pytest.fixture
def acme(make_account, client):
    """Acme with Casey (signed in) and tasks for Pat, Jo and Casey raised through the real pipeline."""
    handle = make_account("Acme")
    process(
        handle,
        ev.stage_changed(),  # Ready to Schedule, for Pat (the candidate's coordinator)
        ev.job_event("created", 1),  # New Job, for Jo (the job's coordinator)
        ev.integration_event("failed", 2),  # Broken Integration, for Casey (the account's creator)
    )
    handle.csrf = sign_in(client, handle.user.email)
    return handle


def tasks_of(email, status="open"):
    return list(
        Task.select().join(User, on=(Task.assignee == User.id)).where(User.email == email, Task.status == status)
    )


def test_task_list_shows_my_open_tasks_with_category_action_age_and_link(client, acme):
    response = client.get("/tasks")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<!doctype html>" in html.lower()
    assert "My tasks" in html
    assert "Google Calendar integration is broken" in html
    assert "Reconnect Google Calendar" in html
    assert "Broken Integration" in html
    assert "Jordan Lee" not in html  # Pat's task, not mine
    assert response.headers["Vary"] and "HX-Request" in response.headers["Vary"]


def test_task_list_fragment_for_htmx_is_only_the_list_region(client, acme):
    response = client.get("/tasks", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and "<body" not in html
    assert 'id="task-rows"' in html and "Reconnect Google Calendar" in html
    assert "HX-Request" in response.headers["Vary"]


def test_a_boosted_or_history_restore_request_gets_the_whole_page(client, acme):
    for headers in ({**HTMX, "HX-Boosted": "true"}, {**HTMX, "HX-History-Restore-Request": "true"}):
        assert "<html" in client.get("/tasks", headers=headers).get_data(as_text=True)
