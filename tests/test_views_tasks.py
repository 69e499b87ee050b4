"""The coordinator's task list in the browser's terms: pages and htmx fragments, completing and
undoing, covering for a colleague, categories, live updates, task detail and access rules."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests import events as ev
from tests.helpers import HTMX, process, sign_in
from webapp.models import Task, User


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


def complete(client, acme, task, headers=None, query=""):
    return client.post(f"/tasks/{task.id}/complete{query}", headers={"X-CSRFToken": acme.csrf, **(headers or {})})


def test_completing_with_htmx_answers_new_rows_counts_and_an_undo_notice(client, acme):
    task = tasks_of(acme.user.email)[0]
    response = complete(client, acme, task, HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="task-{task.id}"' not in html  # the row leaves
    assert 'hx-swap-oob="true"' in html and 'id="task-rows"' in html
    assert "0 open tasks<" in html and "Nothing to do right now." in html  # the counts update
    assert f"/tasks/{task.id}/reopen" in html and ">Undo<" in html
    assert Task.get_by_id(task.id).status == "completed"


def test_completing_without_javascript_redirects_back_to_the_same_list_with_undo(client, acme):
    task = tasks_of(acme.user.email)[0]
    response = complete(client, acme, task, query="?category=broken_integration&completed=1")
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/tasks"
    assert parse_qs(location.query) == {
        "assignee": [acme.user.email],
        "category": ["broken_integration"],
        "completed": ["1"],
    }
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Completed: <strong>" in page and ">Undo<" in page
    assert "Completed by you" in page  # show completed: who and when, in words


def test_undo_reopens_the_task_and_it_returns_to_the_list(client, acme):
    task = tasks_of(acme.user.email)[0]
    complete(client, acme, task, HTMX)
    response = client.post(f"/tasks/{task.id}/reopen", headers={"X-CSRFToken": acme.csrf, **HTMX})
    assert response.status_code == 200
    assert f'id="task-{task.id}"' in response.get_data(as_text=True)
    assert Task.get_by_id(task.id).status == "open"
    no_js = client.post(f"/tasks/{task.id}/reopen", data={"csrf_token": acme.csrf})
    assert no_js.status_code == 303


def test_covering_for_a_colleague_shows_their_list_and_records_on_whose_behalf(client, acme):
    page = client.get("/tasks", query_string={"assignee": ev.PAT["email"]}).get_data(as_text=True)
    assert "Pat Coordinator’s tasks" in page and "Jordan Lee — Onsite" in page
    assert "Google Calendar" not in page
    pats = tasks_of(ev.PAT["email"])[0]
    complete(client, acme, pats, HTMX, query=f"?assignee={ev.PAT['email']}")
    task = Task.get_by_id(pats.id)
    assert task.completed_by_user_id == acme.user.id and task.completed_on_behalf_of_id == task.assignee_id
    shown = client.get("/tasks", query_string={"assignee": ev.PAT["email"], "completed": "1"}).get_data(as_text=True)
    assert "Completed by you on behalf of Pat Coordinator" in shown


def test_an_unknown_coordinator_is_not_found(client, acme):
    assert client.get("/tasks?assignee=nobody@else.test").status_code == 404


def test_categories_filter_the_list_and_show_open_counts(client, acme):
    process(acme, ev.job_event("created", 3, job={"id": "job-3", "name": "Data Analyst", "coordinator": None}))
    page = client.get("/tasks?category=new_job").get_data(as_text=True)
    assert "New job: Data Analyst" in page
    assert "integration is broken" not in page
    assert re.search(r'id="cat-broken_integration".*?<span class="count">1</span>', page, re.S)
    assert re.search(r'id="cat-new_job".*?<span class="count">1</span>', page, re.S)
    assert re.search(r'id="cat-ready_to_schedule".*?<span class="count">0</span>', page, re.S)
    assert re.search(r'aria-current="page">New Job', page)
    empty = client.get("/tasks?category=room_declined").get_data(as_text=True)
    assert "No open Room Declined tasks." in empty


def test_show_completed_says_in_words_what_completed_a_task(client, acme):
    process(acme, ev.integration_event("restored", 5))
    page = client.get("/tasks?completed=1").get_data(as_text=True)
    assert "Recently completed" in page
    assert "Completed automatically" in page
    assert "ago</time>" in page or "just now</time>" in page
    assert "Completed automatically" not in client.get("/tasks").get_data(as_text=True)


def test_updates_are_empty_while_nothing_changed_and_announce_new_tasks(client, acme):
    page = client.get("/tasks").get_data(as_text=True)
    poll = re.search(r'hx-get="(/tasks/updates\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert client.get(poll, headers=HTMX).status_code == 204
    process(acme, ev.job_event("created", 9, job={"id": "job-9", "name": "Data Analyst", "coordinator": None}))
    response = client.get(poll, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "New job: Data Analyst" in html and 'class="task priority-normal is-new"' in html
    assert '<div id="live" hx-swap-oob="innerHTML">New task: New job: Data Analyst</div>' in html
    assert "2 open tasks" in html


def test_task_detail_explains_why_what_to_do_and_its_history(client, acme):
    pats = tasks_of(ev.PAT["email"])[0]
    for headers in ({}, HTMX):
        response = client.get(f"/tasks/{pats.id}", headers=headers)
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert ("<html" in html) is (not headers)
        assert "Jordan Lee moved into Onsite (Senior Backend Engineer)." in html
        assert "Schedule Jordan Lee for Onsite (Senior Backend Engineer)" in html
        assert "A candidate moved into a stage that is enabled for scheduling" in html
        assert "Opened" in html and "28 Nov 2026, 09:00 UTC" in html
        main = html.split('id="main"')[-1]
        assert "{&#34;" not in main and '{"' not in main and "&#39;" not in main  # no raw JSON


def test_completing_from_the_detail_page_stays_on_it(client, acme):
    task = tasks_of(acme.user.email)[0]
    response = complete(client, acme, task, query="?from=detail")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/tasks/{task.id}")
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Completed by you" in html and "Completed by you" in html and ">Reopen<" in html
    fragment = client.post(f"/tasks/{task.id}/reopen?from=detail", headers={"X-CSRFToken": acme.csrf, **HTMX})
    assert "Mark as done" in fragment.get_data(as_text=True) and "<html" not in fragment.get_data(as_text=True)


def test_another_accounts_task_is_not_found(client, acme, make_account):
    other = make_account("Globex")
    process(other, ev.integration_event("failed"))
    theirs = Task.get(Task.account == other.account)
    assert client.get(f"/tasks/{theirs.id}").status_code == 404
    for action in ("complete", "reopen"):
        assert client.post(f"/tasks/{theirs.id}/{action}", data={"csrf_token": acme.csrf}).status_code == 404
    assert Task.get_by_id(theirs.id).status == "open"
    page = client.get(f"/tasks/{theirs.id}").get_data(as_text=True)
    assert "Not found" in page and 'class="topbar"' in page  # in the app's look


def test_an_htmx_error_is_shown_as_a_notice_not_inside_the_target(client, acme):
    response = client.post("/tasks/999999/complete", headers={"X-CSRFToken": acme.csrf, **HTMX})
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#notice"
    assert "<html" not in response.get_data(as_text=True)


def test_posts_without_the_csrf_token_are_refused(client, acme):
    task = tasks_of(acme.user.email)[0]
    assert client.post(f"/tasks/{task.id}/complete").status_code == 400
    assert client.post(f"/tasks/{task.id}/complete", headers=HTMX).status_code == 400
    assert Task.get_by_id(task.id).status == "open"


def test_nothing_changes_on_get(client, acme):
    task = tasks_of(acme.user.email)[0]
    assert client.get(f"/tasks/{task.id}/complete").status_code == 405
    assert Task.get_by_id(task.id).status == "open"


ROUTES = ["/tasks", "/tasks?completed=1", "/tasks/updates", "/tasks/1"]


@pytest.mark.parametrize("path", ROUTES)
def test_anonymous_visitors_are_sent_to_sign_in(client, app, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


@pytest.mark.parametrize("path", ROUTES)
def test_an_htmx_request_with_an_expired_session_is_redirected_by_hx_redirect(client, app, path):
    response = client.get(path, headers={**HTMX, "HX-Current-URL": "http://localhost/tasks?completed=1"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/tasks?completed%3D1"
    assert response.get_data(as_text=True) == ""


def test_an_htmx_post_after_the_session_expired_is_redirected_too(client, app):
    response = client.post("/tasks/1/complete", headers=HTMX)
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")


def test_home_goes_to_the_task_list(client, app):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/tasks")


def test_pages_carry_a_strict_content_security_policy(client, acme):
    response = client.get("/tasks")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    html = response.get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html
    assert '"includeIndicatorStyles": false' in html.replace("&#34;", '"')


def test_a_long_list_draws_the_most_urgent_first_and_more_on_demand(client, acme):
    from webapp.views.tasks import OPEN_SHOWN_STEP

    me = {"email": acme.user.email, "name": "Casey"}
    jobs = [
        ev.job_event("created", 10 + i, job={"id": f"bulk-{i}", "name": f"Job {i}", "coordinator": me})
        for i in range(OPEN_SHOWN_STEP + 20)
    ]
    process(acme, *jobs)
    mine = len(tasks_of(acme.user.email))
    assert mine == OPEN_SHOWN_STEP + 21  # the broken integration (urgent) and the new jobs

    html = client.get("/tasks").get_data(as_text=True)
    assert html.count('<tr id="task-') == OPEN_SHOWN_STEP
    assert "Google Calendar integration is broken" in html  # the most urgent is drawn first
    assert f"{mine - OPEN_SHOWN_STEP} more open tasks" in html
    more = re.search(r'id="show-more" class="button" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert f"shown={2 * OPEN_SHOWN_STEP}" in more

    html = client.get(more, headers=HTMX).get_data(as_text=True)
    assert html.count('<tr id="task-') == mine and 'id="show-more"' not in html
    # What is drawn stays drawn as the list changes: the completion answer keeps `shown`.
    task = tasks_of(acme.user.email)[0]
    answer = client.post(
        f"/tasks/{task.id}/complete?shown={2 * OPEN_SHOWN_STEP}", data={"csrf_token": acme.csrf}, headers=HTMX
    )
    assert answer.get_data(as_text=True).count('<tr id="task-') == mine - 1


def test_reconnecting_is_linked_for_admins_only(app, acme):
    from flask import g

    [task] = tasks_of(acme.user.email)

    def row_link(client):
        html = client.get("/tasks").get_data(as_text=True)
        row = re.search(rf'<tr id="task-{task.id}".*?</tr>', html, re.S).group(0)
        return re.search(r'<a class="go" href="([^"]+)"', row).group(1)

    assert row_link(acme.client) == "/admin/integrations#calendar-google"  # at the failing one
    User.update(is_admin=False).where(User.id == acme.user.id).execute()
    g.pop("_login_user", None)  # the tests share one app context: load the user afresh
    assert row_link(acme.client) == f"/tasks/{task.id}"  # the admin page would be a 403 for them


def test_only_web_addresses_from_the_ats_become_links(app, make_account):
    from webapp.models import Application
    from webapp.views.links import action_urls

    acme = make_account("Acme")
    tasks = []
    for number, url in enumerate(
        ["javascript:alert(document.cookie)", "//evil.test/x", "https://acme.greenhouse.io/x"]
    ):
        Application.create(account=acme.account, external_id=f"app-{number}", url=url)
        tasks.append(
            Task(id=number + 1, rule_id="an_admins_own_rule", subjects={"application": {"id": f"app-{number}"}})
        )
    with app.test_request_context():
        assert action_urls(acme.account, tasks) == {3: "https://acme.greenhouse.io/x"}


def test_titles_are_escaped(client, acme):
    job = {"id": "job-x", "name": "<script>alert(1)</script>", "coordinator": None}
    process(acme, ev.job_event("created", 3, job=job))
    html = client.get("/tasks").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def forget_signed_in_user():
    """The app fixture keeps one app context for the whole test, so the per-request caches in `g`
    (flask-login's user, flask-wtf's token) would outlive a request; drop them as a real request would."""
    from flask import g

    g.pop("_login_user", None)
    g.pop("csrf_token", None)


class QueryCounter:
    """Counts the SQL statements the database runs."""

    def __init__(self, monkeypatch):
        from webapp.db import database

        self.count = 0
        real = database.obj.execute_sql

        def counting(sql, params=None, *args, **kwargs):
            self.count += 1
            return real(sql, params, *args, **kwargs)

        monkeypatch.setattr(database.obj, "execute_sql", counting)


def _make_tasks(account, user, n):
    from webapp.models import Event, utcnow

    raised = Event.create(account=account, source="api", external_id=f"bulk-{n}", type="job.created", payload={})
    now = utcnow()
    Task.insert_many(
        [
            {
                "account": account,
                "rule_id": "new_job",
                "category": "New Job",
                "key": f'{{"job.id": "bulk-{n}-{i}"}}',
                "key_head": f"bulk-{n}-{i}",
                "title": f"New job: Job {i}",
                "recommended_action": f"Set up Job {i} for scheduling",
                "assignee": user,
                "subjects": {"job": {"id": f"bulk-{n}-{i}", "name": f"Job {i}"}},
                "created_at": now,
                "last_triggered_at": now,
                "raised_by_event": raised,
            }
            for i in range(n)
        ]
    ).execute()


def test_the_task_list_runs_the_same_few_queries_for_5_and_for_50_tasks(app, make_account, monkeypatch):
    counts = {}
    for n in (5, 50):
        handle = make_account(f"Bulk {n}")
        _make_tasks(handle.account, handle.user, n)
        client = app.test_client()
        forget_signed_in_user()
        sign_in(client, handle.user.email)
        counter = QueryCounter(monkeypatch)
        for path in ("/tasks", "/tasks?completed=1"):
            forget_signed_in_user()  # so that loading the user from the session is counted, as in production
            before = counter.count
            html = client.get(path).get_data(as_text=True)
            assert html.count('class="task priority-normal') == n
            counts[(n, path)] = counter.count - before
        monkeypatch.undo()
    assert counts[(5, "/tasks")] == counts[(50, "/tasks")] <= 6
    assert counts[(5, "/tasks?completed=1")] == counts[(50, "/tasks?completed=1")] <= 6
