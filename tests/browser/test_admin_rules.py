"""An admin shapes the rulebook in a real browser: in CodeMirror, a mistake is marked where the
server found it; without JavaScript the plain textarea posts and the mistake is noted beside its
line; a mistake cannot be saved; a preview shows a real difference in tasks, a saved version is used by a running worker
without a restart, an old version is restored; coordinators who are not admins get 403."""

import re
import subprocess
import sys
import time

import pytest
from playwright.sync_api import expect

from tests import events as ev
from tests.browser.conftest import ROOT, SCREENSHOTS, sign_in
from tests.test_admin_rules import ADMIN_ROUTES
from tests.test_rulebook_versions import DEFAULT, broken, urgent_new_jobs
from webapp.db import database
from webapp.models import Event, RulebookVersion, Task, User
from webapp.pipeline import drain
from webapp.rulebook import save_version

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery"


def expected_refusal(page, status):
    """Chromium reports a page answered with an error status on the console; here it is the point."""
    page.problems[:] = [p for p in page.problems if f"status of {status}" not in p]


@pytest.fixture
def admin(page, make_account):
    handle = make_account("Acme")
    sign_in(page, handle.user.email)
    return handle


def write_rules(page, text):
    """Replace the rulebook's text in the editor as an admin would: select all, delete, type.
    (Typing over a selection of highlighted lines makes Chromium's own editing add a style
    attribute, which the CSP refuses, harmlessly: CodeMirror redraws from its model.)"""
    page.locator(".rules-codemirror .cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Backspace")
    page.keyboard.insert_text(text)


def bad_yaml():
    """The default rulebook with a line indented one space short: YAML cannot parse it."""
    return DEFAULT.replace("    priority: high\n", "    priority: high\n   oops: 1\n", 1)


def test_with_javascript_the_rulebook_is_edited_in_codemirror_and_bad_yaml_is_marked_at_its_line(
    page, admin, screenshot
):
    page.goto("/admin/rules")
    content = page.locator(".rules-codemirror .cm-content")
    expect(content).to_be_visible()
    expect(page.locator("#rules-text")).to_be_hidden()
    expect(page.get_by_role("textbox", name="Rulebook (YAML)")).to_be_visible()
    # YAML highlighting: a key is a token of its own, in a colour of its own.
    rule = content.locator(".cm-line").filter(has_text="- id: ready_to_schedule")
    key = rule.locator("span", has_text="id")
    expect(key).to_have_text("id")
    colour = "(e) => getComputedStyle(e).color"
    assert key.evaluate(colour) != rule.evaluate(colour)

    write_rules(page, bad_yaml())
    page.get_by_role("button", name="Check").click()

    line = bad_yaml().splitlines().index("   oops: 1") + 1
    # The problem's place in the report takes the cursor there.
    page.locator(".problems").get_by_role("link", name=f"line {line}:4").click()
    expected_refusal(page, 422)
    marked = page.locator(".cm-line").filter(has=page.locator(".cm-lintRange-error"))
    expect(marked).to_have_count(1)
    expect(marked).to_have_text("   oops: 1")
    expect(marked.locator(".cm-lintRange-error")).to_have_text("oops:")
    expect(page.locator(".cm-gutter-lint .cm-lint-marker-error")).to_have_count(1)
    expect(page.locator(".cm-activeLine")).to_have_text("   oops: 1")
    # What the editor shows is what the form posts.
    assert page.locator("#rules-text").input_value() == bad_yaml()
    marked.locator(".cm-lintRange-error").hover()
    expect(page.locator(".cm-tooltip-lint")).to_contain_text("YAML syntax error")
    screenshot("rules-codemirror-problem")

    page.get_by_label("Message").fill("typo")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".report-refused")).to_contain_text("Not saved: the rulebook has problems")
    expected_refusal(page, 422)
    expect(page.locator(".cm-line").filter(has=page.locator(".cm-lintRange-error"))).to_have_text("   oops: 1")
    assert RulebookVersion.select().count() == 0


def test_without_javascript_the_plain_textarea_posts_and_notes_the_mistake_beside_its_line(open_page, make_account):
    page = open_page(java_script_enabled=False)
    acme = make_account("Acme")
    sign_in(page, acme.user.email)
    line = DEFAULT.splitlines().index("    event: job.created") + 1
    page.goto("/admin/rules")
    expect(page.locator(".cm-editor")).to_have_count(0)
    expect(page.locator("#rules-gutter li")).to_have_count(len(DEFAULT.split("\n")))
    page.locator("#rules-text").fill(broken())
    page.get_by_role("button", name="Check").click()

    note = page.locator(f'#rules-notes li[data-line="{line}"]')
    expect(note).to_contain_text(f"{line}:12")
    expect(note).to_contain_text("job.createdd")
    expect(page.locator(f"#line-{line}")).to_have_class("has-problem")
    expect(page.locator(".problems")).to_contain_text(f"line {line}:12")
    # The note sits beside its line: level with the line number in the gutter.
    gutter_box, note_box = page.locator(f"#line-{line}").bounding_box(), note.bounding_box()
    assert abs(gutter_box["y"] - note_box["y"]) < 2
    expected_refusal(page, 422)  # the page answering Check, once it has loaded
    page.screenshot(path=str(SCREENSHOTS / "rules-check-problem-no-js.png"), full_page=True)

    page.locator("#rules-text").fill(urgent_new_jobs())
    page.get_by_label("Message").fill("New jobs are urgent")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#notice")).to_contain_text("Saved version 1")
    assert "priority: urgent" in RulebookVersion.latest(acme.account).text


def test_a_preview_shows_a_real_difference_in_tasks(page, admin, screenshot):
    admin.post_event(ev.job_event("created"))
    admin.post_event(ev.stage_changed())
    drain()
    page.goto("/admin/rules")
    write_rules(page, urgent_new_jobs())
    page.get_by_role("button", name="Preview").click()

    rows = page.locator("tr.difference")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("New job: Senior Backend Engineer")
    expect(rows.first).to_contain_text("open, normal")
    expect(rows.first).to_contain_text("open, urgent")
    expect(page.locator(".preview")).to_contain_text("A replay, not history")
    screenshot("rules-preview")
    assert Task.get().priority == "normal"  # previewing changed nothing


@pytest.fixture
def worker(worker_env):
    """A long-running worker process (not burst): it must pick up a saved version by itself."""
    process = subprocess.Popen(
        [sys.executable, "-m", "worker"], cwd=ROOT, env=worker_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for_task(job_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with database.connection_context():
            found = [t for t in Task.select() if t.subjects.get("job", {}).get("id") == job_id]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no task for {job_id} within {timeout}s")


def test_after_saving_a_running_worker_handles_the_next_event_with_the_new_version(page, admin, worker, screenshot):
    admin.post_event(ev.job_event("created", job=dict(ev.JOB, id="job-a")))
    assert wait_for_task("job-a").priority == "normal"

    page.goto("/admin/rules")
    write_rules(page, urgent_new_jobs())
    page.get_by_label("Message").fill("New jobs are urgent")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#notice")).to_contain_text("Saved version 1")
    expect(page.locator(".page")).to_contain_text("version 1")
    screenshot("rules-saved")

    admin.post_event(ev.job_event("created", job=dict(ev.JOB, id="job-b")))
    assert wait_for_task("job-b").priority == "urgent"
    assert worker.poll() is None  # the same worker process, never restarted


def test_an_old_version_is_restored_from_the_history(page, admin, screenshot):
    save_version(admin.account, urgent_new_jobs(), author=admin.user, message="New jobs are urgent")
    save_version(admin.account, DEFAULT, author=admin.user, message="Back to normal")
    page.goto("/admin/rules/history")
    removed = page.locator("#version-2 .diff tr.diff-row").filter(has=page.locator("del"))
    expect(removed).to_have_count(1)
    expect(removed.locator("del")).to_have_text("    priority: urgent")
    expect(removed.locator("td.diff-sign").first).to_have_text("−removed")
    screenshot("rules-history")

    page.get_by_role("button", name="Restore version 1").first.click()

    expect(page).to_have_url(re.compile(r"/admin/rules$"))
    expect(page.locator("#notice")).to_contain_text("Version 1 restored as version 3")
    assert "priority: urgent" in page.locator("#rules-text").input_value()
    latest = RulebookVersion.latest(admin.account)
    assert (latest.number, latest.restored_from) == (3, 1)


@pytest.mark.parametrize("method, path", ADMIN_ROUTES)
def test_a_coordinator_who_is_not_an_admin_gets_403(page, make_account, method, path):
    acme = make_account("Acme")
    save_version(acme.account, urgent_new_jobs(), author=acme.user, message="v1")
    acme.post_event(ev.job_event("created"))
    pat = User.for_email(acme.account, "pat@acme.test", "Pat")
    pat.set_password(PASSWORD)
    pat.save()
    sign_in(page, "pat@acme.test")
    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    path = path.replace("/inbox/1", f"/inbox/{Event.get(Event.account == acme.account).id}")
    if method == "get":
        response = page.request.get(path, max_redirects=0)
    else:
        response = page.request.post(path, form={"csrf_token": token, "text": DEFAULT}, max_redirects=0)
    assert response.status == 403
    assert RulebookVersion.select().count() == 1
