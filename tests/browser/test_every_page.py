"""Every main page, as a user sees it: the admin and set-up pages fit a 375 px phone without
sideways scrolling, and axe-core (from the repository's own npm install) finds no accessibility
violation on any page, signed out (sign-in) or signed in as an admin, on a desktop or a phone."""

import pytest
from playwright.sync_api import expect

from tests import events as ev
from tests.browser.conftest import PHONE, ROOT
from tests.browser.test_admin_rules import sign_in
from tests.helpers import process
from tests.test_rulebook_versions import DEFAULT, urgent_new_jobs
from webapp.integrations.cli import save_integration
from webapp.models import Event, Integration, Room, Task
from webapp.rulebook import save_version

pytestmark = [pytest.mark.browser, pytest.mark.slow]

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

ADMIN_PAGES = [
    "/admin/rules",
    "/admin/rules/history",
    "/admin/rules/versions/2",
    "/admin/inbox",
    "/admin/inbox/{event}",
    "/admin/integrations",
    "/admin/people",
]
SETUP_PAGES = ["/setup/jobs/job-1", "/setup/stages/stage-onsite", "/setup/interviews/int-1", "/setup/rooms"]
TASK_PAGES = ["/tasks", "/tasks/{task}", "/schedules/new?application=app-1&stage=stage-onsite&task={task}", "/team"]


@pytest.fixture
def acme(make_account):
    """Acme with something on every page: tasks from a new job, stage, interview and a candidate
    ready to schedule; inbox events; two saved rulebook versions; rooms with calendar addresses as
    long as Google's; Greenhouse connected, and failing with a long error (so every page has the banner)."""
    handle = make_account("Acme")
    Room.create(account=handle.account, name="Room 4A", email="room-4a@resource.acme.test")
    Room.create(
        account=handle.account,
        name="Boardroom (7th floor, north wing)",
        email="c_188d2hq6u0vt8jj8kphlc6dqnmgq2@resource.calendar.google.com",
    )
    greenhouse = save_integration(handle.account, "greenhouse", "whsec-1", "harvest-key")
    Integration.update(
        status=Integration.FAILING,
        last_error="401 Unauthorized from https://harvest.greenhouse.io/v1/job_stages?per_page=500&page=1",
    ).where(Integration.id == greenhouse.id).execute()
    process(
        handle,
        ev.job_event("created"),
        ev.stage_event("created", 1),
        ev.interview_event("created", 2),
        ev.stage_changed(minutes=3),
    )
    save_version(handle.account, urgent_new_jobs(), author=handle.user, message="New jobs are urgent")
    save_version(handle.account, DEFAULT, author=handle.user, message="Back to normal")
    handle.event = Event.select().where(Event.account == handle.account).first().id
    handle.task = Task.get(Task.rule_id == "ready_to_schedule").id
    return handle


def paths(acme, pages):
    return [page.format(event=acme.event, task=acme.task) for page in pages]


def test_every_admin_and_setup_page_fits_a_phone_without_sideways_scrolling(open_page, acme):
    page = open_page(viewport=PHONE)
    sign_in(page, acme.user.email)
    too_wide = {}
    for path in paths(acme, ADMIN_PAGES + SETUP_PAGES):
        page.goto(path)
        expect(page.locator("h1").first).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[path] = width
    assert not too_wide, f"wider than {PHONE['width']} px: {too_wide}"


def axe_violations(page):
    """axe-core's violations on the page as it is: {rule id: (impact, help, first few elements)}."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => (await axe.run(document)).violations.map(
             (v) => [v.id, v.impact, v.help, v.nodes.slice(0, 4).map((n) => n.target.join(" "))])"""
    )
    return {rule: (impact, help_, nodes) for rule, impact, help_, nodes in found}


@pytest.fixture(params=["desktop", "phone"])
def axe_page(request, open_page):
    """A page, at a desktop's or a phone's width, on which axe-core can be injected: the CSP (which
    forbids inline scripts, as Playwright injects it) is bypassed here; other tests hold pages to it."""
    assert AXE.exists(), f"{AXE.relative_to(ROOT)} is missing: `make setup` installs axe-core from npm"
    viewport = PHONE if request.param == "phone" else {"width": 1280, "height": 860}
    return open_page(bypass_csp=True, viewport=viewport)


def test_the_sign_in_page_has_no_accessibility_violations(axe_page):
    axe_page.goto("/login")
    assert axe_violations(axe_page) == {}


@pytest.mark.parametrize("group", ["admin", "setup", "tasks"])
def test_every_signed_in_page_has_no_accessibility_violations(axe_page, acme, group):
    sign_in(axe_page, acme.user.email)
    pages = {"admin": ADMIN_PAGES, "setup": SETUP_PAGES, "tasks": TASK_PAGES}[group]
    found = {}
    for path in paths(acme, pages):
        axe_page.goto(path)
        expect(axe_page.locator("h1").first).to_be_visible()
        violations = axe_violations(axe_page)
        if violations:
            found[path] = violations
    assert not found, "\n".join(f"{path}: {violations}" for path, violations in found.items())
