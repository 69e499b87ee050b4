"""The rulebook admin page: admins only; check shows each problem beside its line; preview shows
what the draft would do differently; save, history with diffs, restore; removed rules ask first."""

import re

import pytest

from tests import events as ev
from tests.helpers import HTMX, csrf_from, sign_in, sign_in_coordinator
from tests.test_rulebook_versions import DEFAULT, broken, urgent_new_jobs, without_new_job
from webapp.models import Integration, RulebookVersion, Task, TaskHistory
from webapp.pipeline import drain
from webapp.rulebook import rulebook_for


@pytest.fixture
def admin(client, make_account):
    handle = make_account("Acme")
    sign_in(client, handle.user.email)
    handle.csrf = csrf_from(client.get("/admin/rules").get_data(as_text=True))
    return handle


def post(client, admin, path, text, **fields):
    return client.post(path, data={"csrf_token": admin.csrf, "text": text, **fields})


# Every admin route and action, for the access checks.
ADMIN_ROUTES = [
    ("get", "/admin/rules"),
    ("post", "/admin/rules/check"),
    ("post", "/admin/rules/preview"),
    ("post", "/admin/rules/save"),
    ("get", "/admin/rules/history"),
    ("get", "/admin/rules/versions/1"),
    ("post", "/admin/rules/versions/1/restore"),
    ("get", "/admin/inbox"),
    ("get", "/admin/inbox/1"),
    ("post", "/admin/inbox/1/retry"),
    ("post", "/admin/inbox/retry"),
    ("get", "/admin/integrations"),
    ("post", "/admin/integrations/greenhouse"),
    ("post", "/admin/integrations/greenhouse/sync"),
    ("post", "/admin/integrations/calendar/google"),
    ("get", "/admin/people"),
    ("post", "/admin/people/1/disable"),
    ("post", "/admin/people/1/enable"),
    ("get", "/admin/people/1/absences"),
    ("post", "/admin/people/1/absences"),
]


@pytest.mark.parametrize("method, path", ADMIN_ROUTES)
def test_a_coordinator_who_is_not_an_admin_gets_403(client, make_account, method, path):
    acme = make_account("Acme")
    sign_in_coordinator(client, acme.account)
    token = csrf_from(client.get("/tasks").get_data(as_text=True))
    form = {"csrf_token": token, "text": DEFAULT, "webhook_secret": "s", "client_secret": "s"}
    response = getattr(client, method)(path, data=form if method == "post" else None)
    assert response.status_code == 403
    assert RulebookVersion.select().count() == 0 and Integration.select().count() == 0


@pytest.mark.parametrize("method, path", [r for r in ADMIN_ROUTES if r[0] == "get"])
def test_signed_out_visitors_are_sent_to_sign_in(client, app, method, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_page_shows_the_rulebook_in_force_with_line_numbers(client, admin):
    html = client.get("/admin/rules").get_data(as_text=True)
    assert "the default rulebook" in html
    assert 'id="line-1"' in html and f'id="line-{len(DEFAULT.splitlines())}"' in html
    assert "id: ready_to_schedule" in html


def test_check_shows_each_problem_beside_its_line(client, admin):
    line = DEFAULT.splitlines().index("    event: job.created") + 1
    response = post(client, admin, "/admin/rules/check", broken())
    html = response.get_data(as_text=True)
    assert response.status_code == 422  # the draft cannot be saved as it is
    assert f'<li id="line-{line}" class="has-problem">' in html
    note = re.search(rf'<li class="note" data-line="{line}"[^>]*>([^<]*)</li>', html)
    assert note and note.group(1).startswith(f"{line}:12 ") and "job.createdd" in note.group(1)


def test_check_over_htmx_sends_the_report_and_the_margins_out_of_band(client, admin):
    response = client.post("/admin/rules/check", data={"csrf_token": admin.csrf, "text": broken()}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="rules-report"' in html
    assert 'id="rules-gutter" class="rules-gutter" aria-hidden="true" hx-swap-oob="true"' in html
    assert response.headers["Vary"] == "HX-Request" or "HX-Request" in response.headers["Vary"]


def test_a_draft_with_a_mistake_cannot_be_saved(client, admin):
    response = post(client, admin, "/admin/rules/save", broken(), message="oops")
    assert response.status_code == 422
    assert "Not saved: the rulebook has problems" in response.get_data(as_text=True)
    assert RulebookVersion.select().count() == 0


def test_saving_stores_a_version_with_who_and_why_and_redirects(client, admin):
    response = post(client, admin, "/admin/rules/save", urgent_new_jobs(), message="New jobs are urgent")
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/rules")
    version = RulebookVersion.get()
    assert (version.number, version.author_id, version.message) == (1, admin.user.id, "New jobs are urgent")
    html = client.get("/admin/rules").get_data(as_text=True)
    assert "version 1" in html and "Saved version 1" in html
    assert rulebook_for(admin.account).rule("new_job").priority == "urgent"


def test_windows_line_endings_from_the_browser_are_saved_as_unix_ones(client, admin):
    post(client, admin, "/admin/rules/save", urgent_new_jobs().replace("\n", "\r\n"), message="crlf")
    assert "\r" not in RulebookVersion.get().text


def test_a_preview_lists_the_tasks_that_would_differ(client, admin):
    admin.post_event(ev.job_event("created"))
    admin.post_event(ev.stage_changed())
    drain()
    response = post(client, admin, "/admin/rules/preview", urgent_new_jobs(), events="500")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "the last 2 events, replayed" in html
    assert html.count('class="difference"') == 1
    assert "would differ" in html and "open, urgent" in html and "open, normal" in html


def test_removing_a_rule_with_open_tasks_asks_and_records_the_choice(client, admin):
    admin.post_event(ev.job_event("created"))
    drain()
    asked = post(client, admin, "/admin/rules/save", without_new_job(), message="no new jobs")
    html = asked.get_data(as_text=True)
    assert asked.status_code == 422 and 'name="removed-new_job" value="complete"' in html
    assert RulebookVersion.select().count() == 0

    done = post(
        client, admin, "/admin/rules/save", without_new_job(), message="no new jobs", **{"removed-new_job": "keep"}
    )

    assert done.status_code == 303
    assert RulebookVersion.get().removed_rules == {"new_job": "keep"}
    task = Task.get()
    assert task.status == "open" and TaskHistory.history_of(task)[-1].kind == "rule_removed"
    assert "kept open" in client.get("/admin/rules/history").get_data(as_text=True)


def test_history_shows_diffs_and_an_old_version_can_be_restored(client, admin):
    post(client, admin, "/admin/rules/save", urgent_new_jobs(), message="urgent")
    post(client, admin, "/admin/rules/save", DEFAULT, message="normal again")
    html = client.get("/admin/rules/history").get_data(as_text=True)
    assert '<td class="diff-code diff-add"><ins>    priority: urgent</ins>' in html
    assert '<td class="diff-code diff-remove"><del>    priority: urgent</del>' in html

    response = client.post("/admin/rules/versions/1/restore", data={"csrf_token": admin.csrf})

    assert response.status_code == 303
    latest = RulebookVersion.latest(admin.account)
    assert (latest.number, latest.restored_from, latest.message) == (3, 1, "Restored version 1")
    assert rulebook_for(admin.account).rule("new_job").priority == "urgent"


def test_restoring_a_version_that_drops_a_rule_with_open_tasks_asks_first(client, admin):
    post(client, admin, "/admin/rules/save", without_new_job(), message="no new jobs")
    post(client, admin, "/admin/rules/save", DEFAULT, message="back")
    admin.post_event(ev.job_event("created"))
    drain()
    asked = client.post("/admin/rules/versions/1/restore", data={"csrf_token": admin.csrf})
    assert asked.status_code == 409 and 'name="removed-new_job"' in asked.get_data(as_text=True)
    done = client.post(
        "/admin/rules/versions/1/restore", data={"csrf_token": admin.csrf, "removed-new_job": "complete"}
    )
    assert done.status_code == 303
    assert Task.get().status == "completed"


def test_another_accounts_versions_are_not_found(client, admin, make_account):
    from webapp.rulebook import save_version

    globex = make_account("Globex")
    save_version(globex.account, urgent_new_jobs(), author=globex.user)
    assert client.get("/admin/rules/versions/1").status_code == 404
    assert client.post("/admin/rules/versions/1/restore", data={"csrf_token": admin.csrf}).status_code == 404


def test_posts_without_the_csrf_token_are_refused(client, admin):
    response = client.post("/admin/rules/save", data={"text": urgent_new_jobs()})
    assert response.status_code == 400
    assert RulebookVersion.select().count() == 0


def diff_rows(html):
    """The side-by-side diff's rows as text: (old line, old sign, old text, new line, new sign, new text)."""
    rows = re.findall(r'<tr class="diff-row">(.*?)</tr>', html, flags=re.S)
    cell = re.compile(r"<td[^>]*>(.*?)</td>", flags=re.S)
    return [tuple(re.sub(r"<[^>]+>", "", c) for c in cell.findall(row)) for row in rows]


def test_a_version_is_shown_side_by_side_with_the_one_before_escaped_with_its_changes_marked(client, admin):
    text = urgent_new_jobs()
    post(client, admin, "/admin/rules/save", text, message="urgent")
    hostile = text.replace("# Docket's default rulebook", "# <script>alert(1)</script> & Docket's rulebook")
    post(client, admin, "/admin/rules/save", hostile, message="comment")

    html = client.get("/admin/rules/versions/2").get_data(as_text=True)

    assert "Version 1 → Version 2" in html
    rows = diff_rows(html)
    old_first = "# Docket's default rulebook: which events open a task for a coordinator, and which complete it."
    new_first = old_first.replace(
        "# Docket's default rulebook", "# &lt;script&gt;alert(1)&lt;/script&gt; &amp; Docket's rulebook"
    )
    # One row: the old line, marked removed, beside its new text, marked added.
    assert ("1", "−removed", old_first.replace("'", "&#39;"), "1", "+added", new_first.replace("'", "&#39;")) in rows
    assert "<script>alert(1)" not in html
    assert rows[1][:5] == (
        "2",
        "",
        "# Rule ids are stable: tasks store them. Never reuse an id for a different rule.",
        "2",
        "",
    )

    against_default = client.get("/admin/rules/versions/2?against=0").get_data(as_text=True)
    assert "Default rulebook → Version 2" in against_default
    added = [r for r in diff_rows(against_default) if r[4] == "+added"]
    assert [r[5] for r in added] == [new_first.replace("'", "&#39;"), "    priority: urgent"]
    assert client.get("/admin/rules/versions/2?against=7").status_code == 404
