"""Snoozing a task until a time (the sweep wakes it then, once) or until an event (a rule's
`wake_on`: the next answer to the schedule's invites), and dismissing one with a reason: both task
states with history, off the list and back, undoable, in the JSON API, each account's own."""

import datetime as dt
import html as html_lib

import pytest

import webapp.models
import webapp.views.tasks
from tests import events as ev
from tests.helpers import HTMX, ROOT, process, sign_in
from tests.test_api_task_pages import (
    EVERYONES,
    MINE,
    _add_tasks,
    _assert_read_in_index_order,
    _plan,
    _statements,
)
from webapp.models import Task, TaskHistory, User, utcnow
from webapp.pipeline import drain
from webapp.rules.loader import RulebookError, load_rulebook
from worker.jobs import sweep


@pytest.fixture
def acme(make_account, client):
    """Acme, Casey signed in, and two of Pat's tasks from the pipeline: a candidate to schedule and
    an interviewer who declined."""
    handle = make_account("Acme")
    process(handle, ev.stage_changed(), ev.responded(ev.INTERVIEWER, "declined", minutes=1))
    handle.csrf = sign_in(client, handle.user.email)
    handle.ready = Task.get(Task.rule_id == "ready_to_schedule")
    handle.declined = Task.get(Task.rule_id == "interviewer_declined")
    return handle


def _post(client, acme, path, **form):
    return client.post(path, data={"csrf_token": acme.csrf, **form}, headers=HTMX)


def _history(task):
    return [(h.kind, h.note) for h in TaskHistory.history_of(task)]


def _listed(client, **params):
    page = client.get("/tasks", query_string={"assignee": "all", **params}).get_data(as_text=True)
    return html_lib.unescape(page)


def _at(monkeypatch, module, moment):
    monkeypatch.setattr(module, "utcnow", lambda: moment)


def test_snoozed_until_a_time_the_task_leaves_the_list_and_the_sweep_wakes_it_then_once(client, acme, monkeypatch):
    response = _post(client, acme, f"/tasks/{acme.ready.id}/snooze", until="3h")
    assert response.status_code == 200 and "Snoozed until" in response.get_data(as_text=True)
    task = Task.get_by_id(acme.ready.id)
    assert task.status == Task.SNOOZED and task.snoozed_until is not None
    assert f'id="task-{task.id}"' not in _listed(client)
    assert "Snoozed until" in _listed(client, snoozed=1) and f'id="wake-{task.id}"' in _listed(client, snoozed=1)

    _at(monkeypatch, webapp.models, task.snoozed_until - dt.timedelta(minutes=1))
    sweep()
    assert Task.get_by_id(task.id).status == Task.SNOOZED
    _at(monkeypatch, webapp.models, task.snoozed_until + dt.timedelta(seconds=1))
    sweep()
    sweep()  # a second scheduler's sweep: nothing more to wake
    woken = Task.get_by_id(task.id)
    assert woken.status == Task.OPEN and woken.snoozed_until is None
    assert [kind for kind, _ in _history(woken)] == ["opened", "snoozed", "woke"]
    assert _history(woken)[-1] == ("woke", "snooze ended")
    assert f'id="task-{task.id}"' in _listed(client)


def test_the_sweep_finds_ended_snoozes_through_the_index_of_snoozed_tasks_alone(acme):
    now = utcnow()
    many = [
        dict(account=acme.account.id, rule_id="new_job", category="New Job", key=f'["bulk-{n}"]', title="t")
        | dict(recommended_action="a", status=Task.OPEN, created_at=now, last_triggered_at=now, subjects="{}")
        for n in range(3000)
    ]
    Task.insert_many(many).execute()  # open tasks, many: the sweep must not read them
    [(sql, args)] = [s for s in _statements(Task.wake_due) if '"task"' in s[0]]
    plan = _plan(sql, args)
    assert "task_status_snoozed_until" in plan, plan  # a partial index: snoozed tasks only, never a scan


def test_the_menu_offers_tomorrow_and_next_monday_at_nine_in_my_zone(client, acme, monkeypatch):
    assert _post(client, acme, "/account/profile", time_zone="America/New_York").status_code in (200, 303)
    # Friday 03:00 in UTC is still Thursday 22:00 in New York: tomorrow there is Friday.
    _at(monkeypatch, webapp.views.tasks, dt.datetime(2026, 12, 4, 3, 0, tzinfo=dt.UTC))
    _post(client, acme, f"/tasks/{acme.ready.id}/snooze", until="tomorrow")
    assert Task.get_by_id(acme.ready.id).snoozed_until == dt.datetime(2026, 12, 4, 14, 0, tzinfo=dt.UTC)
    _post(client, acme, f"/tasks/{acme.ready.id}/snooze", until="monday")
    assert Task.get_by_id(acme.ready.id).snoozed_until == dt.datetime(2026, 12, 7, 14, 0, tzinfo=dt.UTC)
    _post(client, acme, f"/tasks/{acme.ready.id}/snooze", until="custom", at="2026-12-05T08:30")
    assert Task.get_by_id(acme.ready.id).snoozed_until == dt.datetime(2026, 12, 5, 13, 30, tzinfo=dt.UTC)
    assert (
        _post(client, acme, f"/tasks/{acme.ready.id}/snooze", until="custom", at="2026-12-01T08:30").status_code == 400
    )


def test_snoozed_until_they_answer_the_next_answer_for_that_schedule_wakes_it(client, acme):
    page = html_lib.unescape(client.get(f"/tasks/{acme.declined.id}").get_data(as_text=True))
    assert "Until they answer" in page
    assert "Until they answer" not in client.get(f"/tasks/{acme.ready.id}").get_data(as_text=True)
    assert _post(client, acme, f"/tasks/{acme.ready.id}/snooze", until="event").status_code == 400  # no wake_on

    _post(client, acme, f"/tasks/{acme.declined.id}/snooze", until="event")
    assert Task.get_by_id(acme.declined.id).status == Task.SNOOZED
    process(acme, ev.responded(ev.CANDIDATE_ATTENDEE, "accepted", minutes=5, schedule={"id": "sched-other"}))
    assert Task.get_by_id(acme.declined.id).status == Task.SNOOZED  # another schedule's answer
    process(acme, ev.responded(ev.CANDIDATE_ATTENDEE, "accepted", minutes=6))
    woken = Task.get_by_id(acme.declined.id)
    assert woken.status == Task.OPEN
    assert _history(woken)[-1] == ("woke", "Jordan Lee answered the invite (accepted)")


def test_a_batch_asks_once_whether_anything_is_snoozed_before_waking_tasks(acme):
    for i in range(3):
        assert acme.post_event(ev.responded(ev.CANDIDATE_ATTENDEE, "tentative", minutes=10 + i)).status_code == 202
    statements = _statements(drain)
    asked = [sql for sql, params in statements if "LIMIT" in sql.upper() and Task.SNOOZED in (params or ())]
    assert len(asked) == 1  # three events, each woken by three rules' wake_on: one question
    assert Task.select().where(Task.status == Task.OPEN).count() == 2


def test_a_snoozed_task_is_still_the_live_task_of_its_key(client, acme):
    _post(client, acme, f"/tasks/{acme.ready.id}/snooze", until="3h")
    process(acme, ev.stage_changed(minutes=10))  # the same trigger again
    assert Task.select().where(Task.rule_id == "ready_to_schedule").count() == 1
    task = Task.get_by_id(acme.ready.id)
    assert task.status == Task.SNOOZED and _history(task)[-1][0] == "retriggered"
    process(acme, ev.schedule_event("created", minutes=20))  # what resolves it
    done = Task.get_by_id(acme.ready.id)
    assert done.status == Task.COMPLETED and done.snoozed_until is None and done.completed_by_event_id


def test_dismissed_with_a_reason_it_shows_under_show_completed_and_undo_reopens_it(client, acme):
    response = _post(client, acme, f"/tasks/{acme.ready.id}/dismiss", reason="duplicate", note="same as Lee's")
    assert "Dismissed (duplicate)" in html_lib.unescape(response.get_data(as_text=True))
    task = Task.get_by_id(acme.ready.id)
    assert (task.status, task.dismiss_reason, task.dismiss_note) == (Task.COMPLETED, "duplicate", "same as Lee's")
    assert _history(task)[-1] == ("dismissed", "Duplicate: same as Lee's; on behalf of Pat Coordinator")
    assert f'id="task-{task.id}"' not in _listed(client)
    assert 'Dismissed by you: <span class="dismiss-reason">Duplicate</span> — same as Lee\'s' in _listed(
        client, completed=1
    )
    assert _post(client, acme, f"/tasks/{task.id}/dismiss", reason="bogus").status_code == 400

    _post(client, acme, f"/tasks/{task.id}/reopen")  # the notice's Undo
    reopened = Task.get_by_id(task.id)
    assert reopened.status == Task.OPEN and reopened.dismiss_reason is None
    _post(client, acme, f"/tasks/{task.id}/dismiss", reason="not_needed")
    process(acme, ev.stage_changed(minutes=30))  # like a completed task: a new trigger opens a new task
    assert Task.select().where(Task.rule_id == "ready_to_schedule", Task.status == Task.OPEN).count() == 1


def test_the_undo_of_a_snooze_wakes_it_without_javascript_too(client, acme):
    response = client.post(f"/tasks/{acme.ready.id}/snooze", data={"csrf_token": acme.csrf, "until": "monday"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'action="/tasks/{acme.ready.id}/wake' in page and f'id="undo-{acme.ready.id}"' in page
    assert client.post(f"/tasks/{acme.ready.id}/wake", data={"csrf_token": acme.csrf}).status_code == 303
    task = Task.get_by_id(acme.ready.id)
    assert task.status == Task.OPEN
    assert [kind for kind, _ in _history(task)] == ["opened", "snoozed", "woke"]
    assert client.post(f"/tasks/{acme.ready.id}/snooze", data={"until": "3h"}).status_code == 400  # no CSRF token


def test_the_api_snoozes_dismisses_wakes_and_lists_by_state(acme):
    until = (utcnow() + dt.timedelta(days=1)).replace(microsecond=0)
    body = acme.post(f"/api/tasks/{acme.ready.id}/snooze", json={"until": until.isoformat()}).get_json()
    assert body["status"] == "snoozed" and body["snoozed_until"] == until.isoformat().replace("+00:00", "Z")
    body = acme.post(f"/api/tasks/{acme.declined.id}/snooze", json={"until": "event"}).get_json()
    assert body["snoozed_until"] is None and body["wake_on"] == ["attendee.responded"]
    assert sorted(t["id"] for t in acme.tasks(status="snoozed")) == sorted([acme.ready.id, acme.declined.id])
    assert acme.tasks(status="open") == []

    body = acme.post(f"/api/tasks/{acme.ready.id}/dismiss", json={"reason": "handled_outside", "note": "by phone"})
    assert body.get_json()["dismissed"] == {
        "reason": "handled_outside",
        "label": "Handled outside Docket",
        "note": "by phone",
    }
    assert [t["id"] for t in acme.tasks(status="dismissed")] == [acme.ready.id]
    assert [t["id"] for t in acme.tasks(status="completed")] == [acme.ready.id]
    assert acme.post(f"/api/tasks/{acme.declined.id}/wake").get_json()["status"] == "open"
    assert {t["status"] for t in acme.tasks(status="all")} == {"open", "completed"}

    def error(path, body):
        response = acme.post(path, json=body)
        return response.status_code, response.get_json().get("field")

    past = (utcnow() - dt.timedelta(hours=1)).isoformat()
    assert error(f"/api/tasks/{acme.declined.id}/snooze", {"until": past}) == (400, "until")
    assert error(f"/api/tasks/{acme.declined.id}/snooze", {"until": "soon"}) == (400, "until")
    assert error(f"/api/tasks/{acme.declined.id}/dismiss", {"reason": "bored"}) == (400, "reason")
    assert error(f"/api/tasks/{acme.ready.id}/snooze", {"until": "event"}) == (400, "until")
    assert error(f"/api/tasks/{acme.ready.id}/dismiss", {"reason": "other"})[0] == 409  # completed already


def test_another_accounts_tasks_cannot_be_snoozed_dismissed_or_woken(client, acme, make_account):
    globex = make_account("Globex")
    process(globex, ev.responded(ev.INTERVIEWER, "declined"))
    theirs = Task.get(Task.account == globex.account)
    assert globex.post(f"/api/tasks/{theirs.id}/snooze", json={"until": "event"}).status_code == 200
    for action, form in (("snooze", {"until": "event"}), ("dismiss", {"reason": "other"}), ("wake", {})):
        assert acme.post(f"/api/tasks/{theirs.id}/{action}", json=form).status_code == 404
        assert _post(client, acme, f"/tasks/{theirs.id}/{action}", **form).status_code == 404
    assert acme.tasks(status="snoozed") == [] and Task.get_by_id(theirs.id).status == Task.SNOOZED
    process(acme, ev.responded(ev.CANDIDATE_ATTENDEE, "accepted", minutes=5))  # Acme's answer, same ids
    assert Task.get_by_id(theirs.id).status == Task.SNOOZED


@pytest.mark.parametrize(
    "params, index",
    [
        ({"status": "snoozed"}, MINE),
        ({"assignee": "all", "status": "snoozed"}, EVERYONES),
        ({"status": "dismissed"}, "task_dismissed_assignee_due"),
        ({"assignee": "all", "status": "dismissed"}, "task_dismissed_due"),
    ],
)
def test_snoozed_and_dismissed_pages_are_read_in_an_index_order(acme, params, index):
    people = [acme.user, User.for_email(acme.account, "sam@acme.test", "Sam")]
    _add_tasks(acme.account, people, 1000, status=Task.SNOOZED, prefix="zz")
    _add_tasks(acme.account, people, 1000, status=Task.COMPLETED, prefix="dd")
    Task.update(dismiss_reason="other").where(Task.key_head.startswith("dd-1")).execute()  # 1 in 9
    first = acme.get("/api/tasks", query_string={**params, "limit": 10}).get_json()
    assert len(first["tasks"]) == 10 and first["next"]
    for url in ("/api/tasks?" + "&".join(f"{k}={v}" for k, v in params.items()), first["next"]):
        statements = [s for s in _statements(lambda url=url: acme.get(url)) if '"task"' in s[0] and "ORDER BY" in s[0]]
        assert statements
        for sql, args in statements:
            _assert_read_in_index_order(_plan(sql, args), index)


def test_wake_on_is_checked_like_resolve_on_with_the_line_and_column():
    wake_on = '        same: [schedule.id]\n        reason: "{{ attendee.name'
    text = (ROOT / "rules.yaml").read_text().replace(wake_on, wake_on.replace("schedule.id", "schedule.idd"), 1)
    with pytest.raises(RulebookError) as caught:
        load_rulebook(text)
    assert any(
        p.path.startswith("rules[2].wake_on[0].same") and p.line > 0 and p.column > 0 for p in caught.value.problems
    ), [str(p) for p in caught.value.problems]
