"""Snoozing and dismissing in a real browser: a snoozed task leaves the list, shows under Show
snoozed and comes back with Undo or Wake now; a dismissed one shows its reason under Show completed."""

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests import events as ev
from tests.browser.conftest import sign_in
from webapp.pipeline import drain

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def acme(make_account):
    """Acme, whose creator Casey coordinates Jordan Lee: a candidate to schedule and a declined interviewer."""
    handle = make_account("Acme")
    candidate = {**ev.CANDIDATE, "coordinator": {"email": handle.user.email, "name": handle.user.name}}
    declined = ev.responded(ev.INTERVIEWER, "declined", minutes=1)
    declined["data"]["candidate"] = candidate
    for envelope in (ev.stage_changed(candidate=candidate), declined):
        assert handle.post_event(envelope).status_code == 202
    drain()
    return handle


def snooze(row, choice):
    """Open the row's Snooze menu and choose; again when a live update redrew the row (and closed
    the menu) in between, as the list does after each change."""
    for _ in range(3):
        row.get_by_text("Snooze").click()
        try:
            row.get_by_role("button", name=choice).click(timeout=3000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"could not choose {choice!r} in the snooze menu")


def test_a_snoozed_task_leaves_the_list_shows_under_show_snoozed_and_comes_back(page, acme):
    sign_in(page, acme.user.email)
    row = page.locator("tr.task", has_text="Dana Wu declined")
    expect(row).to_be_visible()
    snooze(row, "Until they answer")
    expect(page.locator("#notice")).to_contain_text("Snoozed until they answer")
    expect(row).to_have_count(0)

    page.get_by_role("button", name="Undo").click()
    expect(page.locator("tr.task", has_text="Dana Wu declined")).to_be_visible()

    row = page.locator("tr.task", has_text="Jordan Lee — Onsite")
    snooze(row, "Tomorrow 09:00")
    expect(page.locator("#notice")).to_contain_text("Snoozed until")
    expect(row).to_have_count(0)
    page.get_by_label("Show snoozed").check()
    snoozed = page.locator("tr.task.is-snoozed", has_text="Jordan Lee — Onsite")
    expect(snoozed).to_contain_text("Snoozed until")
    snoozed.get_by_role("button", name="Wake now").click()
    expect(page.locator("#notice")).to_contain_text("Back on the list")
    expect(page.locator("tr.task.is-snoozed")).to_have_count(0)
    expect(page.locator("tr.task", has_text="Jordan Lee — Onsite")).to_be_visible()


def test_dismissing_from_the_detail_page_records_the_reason_and_show_completed_shows_it(page, acme):
    sign_in(page, acme.user.email)
    row = page.locator("tr.task", has_text="Jordan Lee — Onsite")
    row.focus()
    page.keyboard.press("s")  # the shortcut opens the row's menu
    expect(row.get_by_role("button", name="In 3 hours")).to_be_focused()
    page.get_by_role("link", name="Jordan Lee — Onsite").click()
    page.get_by_label("Dismiss as").select_option(label="Handled outside Docket")
    page.get_by_label("Note").fill("scheduled by phone")
    page.get_by_role("button", name="Dismiss", exact=True).click()
    expect(page.locator(".task-completion")).to_contain_text(
        "Dismissed by you: Handled outside Docket — scheduled by phone"
    )
    expect(page.locator(".history")).to_contain_text("Dismissed by you: Handled outside Docket: scheduled by phone")

    page.get_by_role("link", name="← All tasks").click()
    expect(page.locator("tr.task", has_text="Jordan Lee — Onsite")).to_have_count(0)
    page.get_by_label("Show completed").check()
    done = page.locator("tr.task.is-completed", has_text="Jordan Lee — Onsite")
    expect(done).to_contain_text("Dismissed by you: Handled outside Docket — scheduled by phone")
