"""Out of office in a real browser: a coordinator sets an absence with a backup on their profile
page, and the backup finds the next task the rules would have given them on their own list,
"covering for" them; the profile page with an absence listed, and the page that changes it, have
no accessibility violation."""

import datetime as dt

import pytest
from playwright.sync_api import expect

from tests import events as ev
from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.browser.test_every_page import axe_violations
from tests.helpers import PASSWORD
from webapp.models import Absence, User, utcnow
from webapp.pipeline import drain

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_coordinator_sets_an_absence_and_their_backup_covers_the_next_task(page, open_page, make_account, screenshot):
    acme = make_account("Acme")
    pat, sam = (
        User.for_email(acme.account, person["email"], person["name"])
        for person in (ev.PAT, {"email": "sam.rivera@acme.test", "name": "Sam Rivera"})
    )
    for user in (pat, sam):
        user.set_password(PASSWORD)
        user.save()

    sign_in(page, pat.email)
    page.goto("/account/profile")
    today = utcnow().date()
    page.get_by_label("First day away").fill(str(today))
    page.get_by_label("Last day away").fill(str(today + dt.timedelta(days=2)))
    page.get_by_label("Backup", exact=True).select_option(label="Sam Rivera (sam.rivera@acme.test)")
    page.get_by_role("button", name="Save the absence").click()
    expect(page.get_by_text("Out of office saved")).to_be_visible()
    expect(page.locator("table.absences")).to_contain_text("Sam Rivera")
    assert Absence.select().count() == 1
    screenshot("absence-profile")

    event = ev.stage_changed()
    event["occurred_at"] = utcnow().isoformat()
    assert acme.post_event(event).status_code == 202
    drain()

    backup = open_page()
    sign_in(backup, sam.email)
    row = backup.locator("tr.task").first
    expect(row).to_contain_text("Jordan Lee")
    expect(row).to_contain_text("covering for Pat Coordinator")
    backup.screenshot(path=str(SCREENSHOTS / "absence-covering.png"))

    axe = open_page(bypass_csp=True)  # axe-core is injected (see tests/browser/test_every_page.py)
    sign_in(axe, pat.email)
    axe.goto("/account/profile")
    expect(axe.locator("table.absences")).to_be_visible()
    assert axe_violations(axe) == {}
    axe.get_by_role("link", name="Change").click()
    expect(axe.get_by_label("Backup", exact=True)).to_have_value(str(sam.id))
    assert axe_violations(axe) == {}
