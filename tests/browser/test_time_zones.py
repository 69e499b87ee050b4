"""Time zones and urgency in a real browser: a coordinator in New York signs in (their browser's zone
becomes theirs), reads and enters local times on the schedule form (stored in UTC), and sees rows
that say how soon and how long, and the open count in the tab's title, kept up to date live."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests import events as ev
from tests.browser.conftest import REPORT_CSP_VIOLATIONS, SCREENSHOTS, sign_in
from webapp.models import ScheduledInterview, Task, User, utcnow
from webapp.pipeline import drain

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def new_york_page(browser, live_server):
    """A page of a browser whose clock is in New York; fails the test on console errors."""
    context = browser.new_context(
        base_url=live_server, timezone_id="America/New_York", viewport={"width": 1280, "height": 860}
    )
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    yield page
    context.close()
    assert not problems, problems


@pytest.fixture
def acme(make_account):
    """Acme: Casey (never signed in) has a candidate to schedule; Dana, an interviewer, is in London."""
    handle = make_account("Acme")
    casey = {"email": handle.user.email, "name": "Casey"}
    assert handle.post_event(ev.stage_changed(candidate={**ev.CANDIDATE, "coordinator": casey})).status_code == 202
    drain()
    handle.dana = User.for_email(handle.account, "dana.wu@acme.test", "Dana Wu")
    handle.dana.time_zone = "Europe/London"
    handle.dana.save()
    return handle


def screenshot(page, name):
    """Save the page under var/screenshots/ for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_a_new_yorker_signs_in_and_reads_and_enters_new_york_times_stored_in_utc(new_york_page, acme):
    page = new_york_page
    sign_in(page, acme.user.email)
    assert User.get_by_id(acme.user.id).time_zone == "America/New_York"  # from the browser, on first sign-in

    task = Task.get(Task.rule_id == "ready_to_schedule")
    page.goto(f"/tasks/{task.id}")
    # The candidate moved at 09:00 UTC on 28 November: 04:00 in New York.
    expect(page.locator("#task-detail")).to_contain_text("Happened Sat 28 Nov 2026, 04:00 EST")

    page.get_by_role("link", name=re.compile("Schedule Jordan Lee")).first.click()
    expect(page.get_by_text("Times are in your time zone, America/New_York")).to_be_visible()
    proposed = dt.datetime.fromisoformat(page.get_by_label("Starts").input_value())
    assert proposed.weekday() < 5 and dt.time(9) <= proposed.time() < dt.time(17)

    day = (utcnow() + dt.timedelta(days=7)).astimezone(NEW_YORK).date()
    page.get_by_label("Starts").fill(f"{day}T10:00")
    page.get_by_label("Ends").fill(f"{day}T11:00")
    page.get_by_label("Interviewers").select_option(label="Dana Wu (dana.wu@acme.test)")
    expect(page.locator("#conflicts")).to_contain_text("10:00 your time · 15:00 for Dana Wu (Europe/London)")
    screenshot(page, "schedule-new-york")
    page.get_by_role("button", name=re.compile("^Schedule")).click()
    expect(page.get_by_text("is scheduled for Onsite")).to_be_visible()
    booked = ScheduledInterview.get()
    assert booked.starts_at == dt.datetime.combine(day, dt.time(10), NEW_YORK).astimezone(dt.UTC)


def test_rows_say_how_soon_and_how_long_and_the_title_counts_open_tasks_live(new_york_page, acme):
    page = new_york_page
    sign_in(page, acme.user.email)
    expect(page).to_have_title("(1) My tasks · Docket")
    row = page.locator("#task-rows tr.task").first
    # Moved into the onsite on 28 November, due a day later: long overdue.
    expect(row.locator(".due")).to_have_class(re.compile(r"\bdue-overdue\b"))
    expect(row.locator(".due")).to_contain_text("overdue")
    expect(row.locator(".waiting")).to_contain_text(re.compile(r"waiting \d+ days"))

    starts_at = (utcnow() + dt.timedelta(hours=3)).isoformat().replace("+00:00", "Z")
    decline = ev.responded(ev.INTERVIEWER, "declined", schedule={"id": "sched-9", "starts_at": starts_at})
    decline["occurred_at"] = utcnow().isoformat().replace("+00:00", "Z")
    decline["data"]["candidate"] = {**ev.CANDIDATE, "coordinator": {"email": acme.user.email, "name": "Casey"}}
    assert acme.post_event(decline).status_code == 202
    drain()
    expect(page).to_have_title("(2) My tasks · Docket", timeout=8000)
    decline_row = page.locator("#task-rows tr.task", has_text="Dana Wu declined")
    expect(decline_row.locator(".due")).to_have_text("interview in 3 h")
    expect(decline_row.locator(".due")).to_have_class(re.compile(r"\bdue-soon\b"))  # due in 2 h: amber
    screenshot(page, "rows-due")
