"""The coordinator's day in a real browser: sign in, the list, covering for a colleague,
completing and undoing, completed tasks, a task arriving live, the detail, small screens."""

import re

import pytest
from playwright.sync_api import expect

from tests import events as ev
from webapp.models import User
from webapp.pipeline import drain

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery"


@pytest.fixture
def acme(make_account):
    """Acme, whose creator Casey has a broken integration and a new job; Pat has a candidate to schedule."""
    handle = make_account("Acme")
    for envelope in (
        ev.stage_changed(),
        ev.job_event("created", 1, job={**ev.JOB, "coordinator": {"email": handle.user.email, "name": "Casey"}}),
        ev.integration_event("failed", 2),
        ev.stage_changed(
            ev.SCREEN,
            minutes=3,
            application={"id": "app-2"},
            candidate={**ev.CANDIDATE, "id": "cand-2", "name": "Maria Garcia"},
        ),
    ):
        assert handle.post_event(envelope).status_code == 202
    drain()
    pat = User.get(User.email == ev.PAT["email"])
    pat.set_password(PASSWORD)
    pat.save()
    return handle


def sign_in(page, email):
    page.goto("/tasks")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My tasks")).to_be_visible()


def test_sign_in_and_see_my_list(page, acme, screenshot):
    page.goto("/login")
    screenshot("login")
    sign_in(page, acme.user.email)
    rows = page.locator("#task-rows tr.task")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Google Calendar integration is broken")  # urgent comes first
    expect(page.locator("#cat-broken_integration .count")).to_have_text("1")
    screenshot("tasks")
