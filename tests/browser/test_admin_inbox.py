"""The event inbox in a real browser: a failed event with its error is retried, and any event
can be explained rule by rule."""

import pytest
from playwright.sync_api import expect

from tests import events as ev
from tests.browser.test_admin_rules import sign_in
from webapp.models import Event
from webapp.pipeline import drain

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_failed_event_is_retried_and_an_event_is_explained(page, make_account, screenshot):
    acme = make_account("Acme")
    acme.post_event(ev.job_event("created", event_id="job-created"))
    acme.post_event(ev.stage_changed(stage=ev.OFFER, event_id="to-offer"))
    drain()
    failed = Event.get(Event.external_id == "to-offer")
    Event.update(status="failed", attempts=5, last_error="OperationalError: database is locked").where(
        Event.id == failed.id
    ).execute()
    sign_in(page, acme.user.email)

    page.goto("/admin/inbox")
    row = page.locator(f"#event-{failed.id}")
    expect(row).to_contain_text("OperationalError: database is locked")
    expect(page.locator(".inbox-row").filter(has_text="job.created")).to_contain_text(
        "New job: Senior Backend Engineer"
    )
    screenshot("inbox")
    row.get_by_role("button", name="Retry").click()
    expect(page.locator("#notice")).to_contain_text(f"Event {failed.id} queued again")
    expect(page.locator(f"#event-{failed.id} .status")).to_have_text("pending")

    page.locator(f"#event-{failed.id}").get_by_role("link", name="Explain").click()
    expect(page.locator(".explain-table tbody tr")).not_to_have_count(0)
    expect(page.locator(".explain-table")).to_contain_text("ready_to_schedule")
    expect(page.locator(".explain-table tr.unmatched").first).to_contain_text("no")
    screenshot("inbox-explain")
