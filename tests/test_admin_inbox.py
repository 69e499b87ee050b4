"""The event inbox page: recent events with the tasks they touched, failed ones with their error
and a Retry button, and Explain giving the same verdicts as `flask rules explain`."""

import json
from html import unescape

import pytest

from tests import events as ev
from tests.test_admin_rules import csrf_from, sign_in
from webapp.models import Event, Task
from webapp.pipeline import drain
from webapp.rulebook import current_rulebook

HTMX = {"HX-Request": "true"}


@pytest.fixture
def admin(client, make_account):
    handle = make_account("Acme")
    sign_in(client, handle.user.email)
    handle.csrf = csrf_from(client.get("/admin/inbox").get_data(as_text=True))
    return handle


def test_recent_events_show_source_type_status_and_the_tasks_they_touched(client, admin):
    admin.post_event(ev.job_event("created", event_id="job-created"))
    drain()
    html = client.get("/admin/inbox").get_data(as_text=True)
    row = Event.get()
    task = Task.get()
    assert f'id="event-{row.id}"' in html
    assert (
        "<td>api</td>" in html
        and "<code>job.created</code>" in html
        and '<span class="status">processed</span>' in html
    )
    assert f'href="/tasks/{task.id}">{task.title}</a> <span class="muted">opened</span>' in html


def test_a_failed_event_shows_its_error_and_retry_puts_it_back(client, admin):
    admin.post_event(ev.job_event("created", event_id="broken"))
    Event.update(status="failed", attempts=5, last_error="KeyError: 'job'").execute()
    row = Event.get()
    html = client.get("/admin/inbox?status=failed").get_data(as_text=True)
    assert "KeyError: &#39;job&#39;" in html and f'action="/admin/inbox/{row.id}/retry"' in html

    response = client.post(
        f"/admin/inbox/{row.id}/retry", data={"csrf_token": admin.csrf, "next": "/admin/inbox?status=failed"}
    )

    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/inbox?status=failed")
    row = Event.get()
    assert (row.status, row.attempts) == ("pending", 0)
    drain()
    assert Event.get().status == "processed" and Task.select().count() == 1


@pytest.mark.parametrize("target", ["//evil.test/", "/\t/evil.test", "/\r\n/evil.test", "https://evil.test/"])
def test_retry_never_redirects_off_site(client, admin, target):
    admin.post_event(ev.job_event("created"))
    Event.update(status="failed").execute()
    response = client.post(f"/admin/inbox/{Event.get().id}/retry", data={"csrf_token": admin.csrf, "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/inbox"


def test_explain_gives_every_rules_verdict_like_the_cli(client, admin, runner, tmp_path):
    envelope = ev.stage_changed(stage=ev.OFFER)
    admin.post_event(envelope)
    drain()
    row = Event.get()
    html = client.get(f"/admin/inbox/{row.id}").get_data(as_text=True)
    assert html.count('class="unmatched"') == len(current_rulebook().rules)

    # The CLI explains the same envelope (as enriched by the worker) with the same reasons.
    explained = client.get(f"/admin/inbox/{row.id}", headers=HTMX).get_data(as_text=True)
    assert "<html" not in explained and 'id="explain"' in explained
    enriched = json.loads(unescape(html.split('<pre class="payload" tabindex="0">')[1].split("</pre>")[0]))
    path = tmp_path / "event.json"
    path.write_text(json.dumps(enriched))
    result = runner.invoke(args=["rules", "explain", str(path)])
    assert result.exit_code == 0, result.output
    for line in result.output.strip().splitlines():
        rule_id, _, reason = line.partition(": no — ")
        assert f"<code>{rule_id}</code>" in html and reason in unescape(html)


def test_another_accounts_events_are_not_found(client, admin, make_account):
    globex = make_account("Globex")
    globex.post_event(ev.job_event("created"))
    row = Event.get()
    assert client.get(f"/admin/inbox/{row.id}").status_code == 404
    assert client.post(f"/admin/inbox/{row.id}/retry", data={"csrf_token": admin.csrf}).status_code == 404
    assert f'id="event-{row.id}"' not in client.get("/admin/inbox").get_data(as_text=True)


@pytest.mark.parametrize("status", ["pending", "processed", "incomplete", "failed", "ignored"])
@pytest.mark.parametrize("headers", [{}, HTMX])
def test_filtering_by_any_status_is_a_200_page_with_that_filter_current(client, admin, status, headers):
    admin.post_event(ev.job_event("created", event_id="filtered"))
    Event.update(status=status).execute()
    response = client.get(f"/admin/inbox?status={status}", headers=headers)
    assert response.status_code == 200 and response.status == "200 OK"
    html = response.get_data(as_text=True)
    assert f'id="event-{Event.get().id}"' in html
    if not headers:
        assert f'href="/admin/inbox?status={status}" aria-current="page"' in html
