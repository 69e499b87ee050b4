"""The coordinator's day in a real browser: sign in, the list, covering for a colleague,
completing and undoing, completed tasks, a task arriving live (pushed, or polled when the push
fails), the detail, small screens."""

import re

import pytest
from playwright.sync_api import expect

from tests import events as ev
from tests.helpers import start_worker, stop_worker
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
    page.wait_for_load_state("load")  # htmx bound to the page: on a busy machine that can come later


def test_sign_in_and_see_my_list(page, acme, screenshot):
    page.goto("/login")
    screenshot("login")
    sign_in(page, acme.user.email)
    rows = page.locator("#task-rows tr.task")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Google Calendar integration is broken")  # urgent comes first
    expect(page.locator("#cat-broken_integration .count")).to_have_text("1")
    screenshot("tasks")


def test_switch_assigned_to_complete_undo_and_show_completed(page, acme, screenshot):
    sign_in(page, acme.user.email)
    page.get_by_label("Assigned to").select_option(label="Pat Coordinator")
    expect(page).to_have_url(re.compile(r"assignee=pat\.coordinator%40acme\.test|assignee=pat\.coordinator@acme\.test"))
    expect(page.get_by_role("heading", name="Pat Coordinator’s tasks")).to_be_visible()
    rows = page.locator("#task-rows tr.task")
    expect(rows).to_have_count(2)
    screenshot("covering")

    page.get_by_role("button", name="Complete: Jordan Lee — Onsite").click()
    expect(rows).to_have_count(1)
    expect(page.locator("#open-total")).to_have_text("1 open task")
    expect(page.locator("#cat-ready_to_schedule .count")).to_have_text("1")
    expect(page.locator("#notice")).to_contain_text("Completed: Jordan Lee — Onsite")
    screenshot("completed-with-undo")

    page.get_by_role("button", name="Undo").click()
    expect(rows).to_have_count(2)
    expect(page.locator("#open-total")).to_have_text("2 open tasks")

    page.get_by_role("button", name="Complete: Maria Garcia — Phone Screen").click()
    expect(rows).to_have_count(1)
    page.get_by_label("Show completed").check()
    expect(page).to_have_url(re.compile(r"completed=1"))
    completed = page.locator("#task-rows tr.task.is-completed")
    expect(completed).to_have_count(1)
    expect(completed).to_contain_text("Completed by you on behalf of Pat Coordinator")
    screenshot("show-completed")

    page.go_back()
    expect(page).not_to_have_url(re.compile(r"completed=1"))
    expect(page.locator("#task-rows tr.task.is-completed")).to_have_count(0)
    page.go_back()
    expect(page.get_by_role("heading", name="My tasks")).to_be_visible()


def test_a_task_appears_while_the_list_is_open_and_is_announced(page, acme, screenshot):
    sign_in(page, acme.user.email)
    page.get_by_label("Assigned to").focus()
    rows = page.locator("#task-rows tr.task")
    expect(rows).to_have_count(2)
    page.set_viewport_size({"width": 1280, "height": 300})  # short enough that the (compact) list scrolls
    page.evaluate("window.scrollTo(0, 120)")
    assert page.evaluate("window.scrollY") == 120
    new_job = {"id": "job-7", "name": "Data Analyst", "coordinator": {"email": acme.user.email, "name": "Casey"}}
    assert acme.post_event(ev.job_event("created", 30, job=new_job)).status_code == 202
    drain()
    expect(rows).to_have_count(3, timeout=8000)
    expect(page.locator("#live")).to_have_text("New task: New job: Data Analyst")
    expect(page.locator("#cat-new_job .count")).to_have_text("2")
    expect(page.get_by_label("Assigned to")).to_be_focused()  # polling did not disturb the user
    assert page.evaluate("window.scrollY") >= 120  # nor send the page back to the top
    screenshot("live-update", full_page=False)


# Marks the page once its stream is open, so a test posts only what the page can be told about.
MARK_STREAM_OPEN = """
document.addEventListener("htmx:sseOpen", () => { document.documentElement.dataset.stream = "open"; });
"""


@pytest.fixture
def worker(worker_env):
    """A real worker process, waiting for the events the API queues."""
    process = start_worker(worker_env)
    yield process
    stop_worker(process)


def test_a_posted_event_is_pushed_to_the_open_list_within_seconds(app, page, acme, worker):
    app.config["TASKS_POLL_SECONDS"] = 600  # no poll comes in time: only the push can show it
    page.add_init_script(MARK_STREAM_OPEN)
    sign_in(page, acme.user.email)
    expect(page.locator("html[data-stream=open]")).to_have_count(1)
    rows = page.locator("#task-rows tr.task")
    expect(rows).to_have_count(2)
    new_job = {"id": "job-8", "name": "Data Analyst", "coordinator": {"email": acme.user.email, "name": "Casey"}}
    assert acme.post_event(ev.job_event("created", 30, job=new_job)).status_code == 202
    expect(rows).to_have_count(3, timeout=5000)
    expect(page.locator("#live")).to_have_text("New task: New job: Data Analyst")
    task_id = rows.filter(has_text="New job: Data Analyst").get_attribute("id").removeprefix("task-")
    assert acme.post(f"/api/tasks/{task_id}/complete").status_code == 200  # a colleague, elsewhere
    expect(rows).to_have_count(2, timeout=5000)


def test_while_the_stream_is_open_the_list_polls_at_a_slower_pace(page, acme):
    page.add_init_script(MARK_STREAM_OPEN)
    polls = []
    page.on("request", lambda request: polls.append(request.url) if "/tasks/updates" in request.url else None)
    sign_in(page, acme.user.email)
    expect(page.locator("html[data-stream=open]")).to_have_count(1)
    page.wait_for_timeout(3500)  # the live server's pace is a poll a second
    assert len(polls) <= 1, polls  # one may go before the stream opened; then one each 30 s


def test_when_the_stream_fails_the_list_still_updates_by_polling(page, acme, worker):
    page.route("**/tasks/stream", lambda route: route.fulfill(status=503, body="unavailable"))
    sign_in(page, acme.user.email)
    rows = page.locator("#task-rows tr.task")
    expect(rows).to_have_count(2)
    new_job = {"id": "job-9", "name": "Data Analyst", "coordinator": {"email": acme.user.email, "name": "Casey"}}
    assert acme.post_event(ev.job_event("created", 30, job=new_job)).status_code == 202
    expect(rows).to_have_count(3, timeout=8000)  # the live server polls every second
    expect(page.locator("#live")).to_have_text("New task: New job: Data Analyst")
    # Expected here: the browser logs the 503s, htmx logs the stream's error events as they are.
    page.problems[:] = [p for p in page.problems if "503" not in p and p != "console error: [object Event]"]


def test_categories_filter_and_task_detail(page, acme, screenshot):
    sign_in(page, acme.user.email)
    page.locator("#cat-new_job").click()
    expect(page).to_have_url(re.compile(r"category=new_job"))
    expect(page.locator("#task-rows tr.task")).to_have_count(1)
    page.get_by_role("link", name="New job: Senior Backend Engineer").first.click()
    expect(page.get_by_role("heading", name="Why this task exists")).to_be_visible()
    expect(page.locator(".detail")).to_contain_text("The job Senior Backend Engineer was added to the ATS")
    expect(page.locator(".history")).to_contain_text("Opened")
    screenshot("task-detail")
    page.get_by_role("button", name="Mark as done").click()
    expect(page.locator(".detail")).to_contain_text("Completed by you")
    expect(page.locator(".history")).to_contain_text("Completed by you")


def test_keyboard_only_completion(page, acme):
    sign_in(page, acme.user.email)
    button = page.get_by_role("button", name="Complete: Google Calendar integration is broken")
    button.focus()
    outline = button.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("Enter")
    expect(page.locator("#task-rows tr.task")).to_have_count(1)


def test_small_screen_and_error_pages(page, acme, screenshot):
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, acme.user.email)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways at 375 px ({width} px wide)"
    screenshot("tasks-375")
    page.goto("/tasks/999999")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    screenshot("not-found", full_page=False)
    page.problems[:] = [p for p in page.problems if "404" not in p]  # the browser logs the 404 itself


def test_an_expired_session_sends_htmx_to_the_sign_in_page(page, acme):
    sign_in(page, acme.user.email)
    page.context.clear_cookies()
    page.get_by_role("button", name="Complete: Google Calendar integration is broken").click()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("heading", name="Sign in to Docket")).to_be_visible()
    # Expected with the session gone: refused requests, and the list's event stream reconnecting
    # to the sign-in page (HTML, not an event stream) before the page left.
    expected = ("401", "400", "EventSource's response has a MIME type")
    page.wait_for_timeout(500)  # what the old page logged on its way out reaches the listener first
    page.problems[:] = [p for p in page.problems if not any(e in p for e in expected)]


def test_works_without_javascript(browser, live_server, acme):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("E-mail").fill(acme.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Complete: Google Calendar integration is broken").click()
    expect(page.locator("#task-rows tr.task")).to_have_count(1)
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#task-rows tr.task")).to_have_count(2)
    page.get_by_label("Assigned to").select_option(label="Pat Coordinator")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Pat Coordinator’s tasks")).to_be_visible()
    context.close()
