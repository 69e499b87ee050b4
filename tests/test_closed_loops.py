# ruff: noqa: F811 (the fixture imported from test_scheduling)
"""A coordinator's loops close: after an action the list says what completed and goes on with the
next task; a cancellation is confirmed first and can be undone for a moment; a task done by a
colleague says by whom; a candidate's schedules have a page; the list shows everyone's or the
unassigned tasks; a broken integration's page shows its failure."""

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

from tests import events as ev
from tests.helpers import HTMX, process, sign_in
from tests.test_scheduling import (  # noqa: F401 (the fixture)
    _declined,
    _scheduled,
    acme,
    book,
    slot_fields,
)
from webapp.calendars import memory_calendar
from webapp.models import Candidate, Integration, Schedule, Task, TaskHistory, User, utcnow
from webapp.pipeline import drain


def _text(html):
    main = html.split('id="main"')[-1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def test_after_scheduling_from_a_task_the_list_names_it_and_focuses_the_next_task(client, acme):
    process(
        acme,
        ev.stage_changed(
            stage=ev.SCREEN, application={"id": "app-2"}, candidate=dict(ev.CANDIDATE, id="cand-2", name="Sam Park")
        ),
    )
    following = Task.get(Task.title == "Sam Park — Phone Screen")
    response = book(client, acme, slot_fields(0, interviewers=[acme.dana]))
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    # Back on the list the task is on (Pat's), the next of its tasks in focus.
    assert location.path == "/tasks"
    assert parse_qs(location.query) == {"assignee": [ev.PAT["email"]], "focus": [str(following.id)]}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(rf'<a class="task-title" href="/tasks/{following.id}" autofocus>', page)
    # No worker ran: the notice says the task completes in a moment, and names it.
    assert "Completing: <strong>Jordan Lee — Onsite</strong>" in page
    assert "Jordan Lee is scheduled for Onsite." in page


def test_a_completed_task_offers_its_action_nowhere(client, acme):
    book(client, acme, slot_fields(0, interviewers=[acme.dana]))
    drain()
    task = Task.get_by_id(acme.task.id)
    assert task.status == "completed"
    detail = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "/schedules/new" not in detail and "Schedule Jordan Lee for Onsite" in detail  # said, not offered
    listing = client.get(f"/tasks?assignee={ev.PAT['email']}&completed=1").get_data(as_text=True)
    row = re.search(rf'<tr id="task-{task.id}".*?</tr>', listing, re.S).group(0)
    assert "/schedules/new" not in row and ">Do it<" not in row


def test_completing_a_task_a_colleague_completed_meanwhile_says_who_and_when(client, acme):
    colleague = User.get(User.email == ev.PAT["email"])
    acme.task.complete_by(colleague)
    Task.update(completed_at=utcnow() - dt.timedelta(minutes=5)).where(Task.id == acme.task.id).execute()
    response = client.post(f"/tasks/{acme.task.id}/complete", headers={"X-CSRFToken": acme.csrf, **HTMX})
    html = response.get_data(as_text=True)
    assert "Already completed by Pat Coordinator 5 minutes ago: <strong>Jordan Lee — Onsite</strong>" in html
    assert ">Undo<" not in html
    history = TaskHistory.select().where(TaskHistory.task == acme.task.id, TaskHistory.kind == "completed")
    assert [h.user_id for h in history] == [colleague.id]  # not completed a second time


def test_cancelling_asks_first_then_can_be_undone_for_a_moment(client, acme):
    schedule = _scheduled(client, acme)
    declined = _declined(acme, schedule, ev.INTERVIEWER)
    url = f"/schedules/{schedule.external_id}/cancel?task={declined.id}"
    edit = client.get(f"/schedules/{schedule.external_id}/edit?task={declined.id}").get_data(as_text=True)
    assert f'href="/schedules/{schedule.external_id}/cancel?task={declined.id}"' in edit  # a link, not a post

    confirm = client.get(url)
    text = _text(confirm.get_data(as_text=True))
    assert confirm.status_code == 200 and "Cancel the Onsite schedule of Jordan Lee?" in text
    assert "Yes, cancel the schedule" in text and "Dana Wu" in text
    assert Schedule.get_by_id(schedule.id).status == "scheduled"  # asking changed nothing

    response = client.post(url, data={"csrf_token": acme.csrf})
    assert Schedule.get_by_id(schedule.id).status == "cancelled"
    drain()  # the worker: the decline completes, Schedule Cancelled opens
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    undo = f"/schedules/{schedule.external_id}/restore?task={declined.id}"
    assert f'action="{undo}"' in page and ">Undo<" in page
    assert Task.get_by_id(declined.id).status == "completed"
    reopened_for = Task.get(Task.rule_id == "schedule_cancelled")
    assert reopened_for.status == "open"

    response = client.post(undo, data={"csrf_token": acme.csrf})
    assert response.status_code == 303
    restored = Schedule.get_by_id(schedule.id)
    assert restored.status == "scheduled"
    events = memory_calendar(acme.account.id).events
    assert all(events[si.calendar_event_id][1] == "confirmed" for si in restored.interviews)  # invited again
    assert Task.get_by_id(declined.id).status == "open"
    assert Task.get_by_id(reopened_for.id).status == "completed"
    notes = [
        (h.kind, h.note) for h in TaskHistory.select().where(TaskHistory.task == declined.id).order_by(TaskHistory.id)
    ]
    assert notes[-1] == ("reopened", "the cancellation was undone")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The cancellation is undone" in page


def test_a_cancellation_cannot_be_undone_after_30_seconds(client, acme):
    schedule = _scheduled(client, acme)
    client.post(f"/schedules/{schedule.external_id}/cancel", data={"csrf_token": acme.csrf})
    drain()
    Schedule.update(updated_at=utcnow() - dt.timedelta(seconds=31)).where(Schedule.id == schedule.id).execute()
    response = client.post(f"/schedules/{schedule.external_id}/restore", data={"csrf_token": acme.csrf})
    assert response.status_code == 303
    assert Schedule.get_by_id(schedule.id).status == "cancelled"
    assert "can be undone for 30 seconds" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_candidates_schedules_page_shows_current_and_past_schedules(client, acme):
    first = _scheduled(client, acme)
    client.post(f"/schedules/{first.external_id}/cancel", data={"csrf_token": acme.csrf})
    book(client, acme, slot_fields(0, start=(14, 0), end=(15, 0), interviewers=[acme.sam], room=acme.room_5b))
    drain()
    response = client.get("/schedules/candidate/cand-1")
    text = _text(response.get_data(as_text=True))
    assert response.status_code == 200 and "Schedules of Jordan Lee" in text
    current, past = text.index("scheduled Made in Docket"), text.index("cancelled Made in Docket")
    assert current < past  # newest first
    assert re.search(r"Onsite · \w{3} \d\d \w{3} \d{4}, 14:00 –15:00 UTC · Room 5B", text)
    assert "Sam Lee (interviewer, no answer yet)" in text and "Room 5B" in text
    assert "Dana Wu (interviewer, no answer yet)" in text and "Room 4A" in text  # the cancelled one's
    assert "Jordan Lee (candidate, no answer yet)" in text
    # Every task about the candidate's schedule links to the page.
    declined = _declined(acme, Schedule.get(Schedule.status == "scheduled"), ev.INTERVIEWER)
    assert 'href="/schedules/candidate/cand-1"' in client.get(f"/tasks/{declined.id}").get_data(as_text=True)


def test_a_candidates_schedules_are_the_accounts_and_for_the_signed_in(client, acme, make_account, app):
    _scheduled(client, acme)
    other = make_account("Globex")
    Candidate.create(account=other.account, external_id="cand-9", name="Hidden Person")
    assert client.get("/schedules/candidate/cand-9").status_code == 404  # another account's candidate
    assert client.get("/schedules/candidate/nobody").status_code == 404
    from flask import g

    outsider = app.test_client()
    g.pop("_login_user", None)  # the tests share one app context: no user loaded
    response = outsider.get("/schedules/candidate/cand-1")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_the_list_shows_everyones_or_the_unassigned_tasks(client, acme):
    process(acme, ev.job_event("created", 1))  # New Job, for Jo
    orphan = Task.get(Task.rule_id == "new_job")
    Task.update(assignee=None).where(Task.id == orphan.id).execute()
    everyone = client.get("/tasks?assignee=all").get_data(as_text=True)
    assert "Everyone’s tasks" in everyone and 'value="all" selected' in everyone
    assert "Jordan Lee — Onsite" in everyone and "New job: Senior Backend Engineer" in everyone
    assert 'class="assignee">Pat Coordinator<' in everyone and 'class="assignee">Unassigned<' in everyone
    unassigned = client.get("/tasks?assignee=unassigned").get_data(as_text=True)
    assert "Unassigned tasks" in unassigned and 'value="unassigned" selected' in unassigned
    assert "New job: Senior Backend Engineer" in unassigned and "Jordan Lee — Onsite" not in unassigned
    assert ">Everyone<" in client.get("/tasks").get_data(as_text=True)
    # The JSON API filters the same way.
    assert [t["title"] for t in acme.tasks(assignee="unassigned")] == ["New job: Senior Backend Engineer"]
    assert {t["title"] for t in acme.tasks(assignee="all", status="open")} == {
        "Jordan Lee — Onsite",
        "New job: Senior Backend Engineer",
    }
    # Completing from everyone's list is recorded on the assignee's behalf.
    client.post(f"/tasks/{acme.task.id}/complete?assignee=all", data={"csrf_token": acme.csrf})
    assert Task.get_by_id(acme.task.id).completed_on_behalf_of.email == ev.PAT["email"]


def test_a_broken_integrations_action_lands_on_its_failure(client, acme):
    from webapp.integrations.health import mark_failing

    greenhouse = Integration.create(account=acme.account, provider="greenhouse", webhook_secret="s", api_key="old")
    message = "Greenhouse refused the Harvest API key (401): Invalid Basic Auth credentials"
    mark_failing(greenhouse, "2026-12-01T09:00:00Z", "http_401", message)
    drain()
    task = Task.get(Task.rule_id == "broken_integration")
    listing = client.get("/tasks").get_data(as_text=True)
    row = re.search(rf'<tr id="task-{task.id}".*?</tr>', listing, re.S).group(0)
    assert 'href="/admin/integrations#integration-greenhouse"' in row
    page = client.get("/admin/integrations").get_data(as_text=True)
    failure = _text(
        re.search(r'<p class="form-error" role="alert" id="failure-greenhouse">.*?</p>', page, re.S).group(0)
    )
    assert "not connected" not in page.split('id="integration-greenhouse"')[1].split("</h3>")[0]
    assert f"Failing since {task.created_at.strftime('%d %b %Y, %H:%M UTC')} : {message}" in failure
    assert message in task.recommended_action  # the same failure the task names


def test_the_demos_broken_integration_lands_on_its_failure_and_its_decline_reads_by_name(runner, app, client, tmp_path):
    from tests.test_demo import _load_demo

    account, passwords = _load_demo(runner, app, tmp_path)
    sign_in(client, "alex.kim@acme.test", passwords["alex.kim@acme.test"])
    broken = Task.get(Task.account == account, Task.rule_id == "broken_integration")
    listing = client.get("/tasks?assignee=all").get_data(as_text=True)
    row = re.search(rf'<tr id="task-{broken.id}".*?</tr>', listing, re.S).group(0)
    link = re.search(r'<a class="go" href="([^"]+)"', row).group(1)
    assert link == "/admin/integrations#integration-lever"
    page = client.get(link.split("#")[0]).get_data(as_text=True)
    failure = _text(re.search(r'id="failure-lever">.*?</p>', page, re.S).group(0))
    assert "Lever refused the API key (401): the key was revoked" in failure and "Failing since" in failure
    assert "Lever refused the API key (401): the key was revoked" in broken.recommended_action

    decline = Task.get(Task.account == account, Task.rule_id == "interviewer_declined")
    text = _text(client.get(f"/tasks/{decline.id}").get_data(as_text=True))
    assert "The interviewer Dana Wu declined the invite to the Onsite interview of Maria Garcia" in text
    assert "Candidate Maria Garcia" in text and "Declined by Dana Wu" in text and "Interview Onsite · " in text
    for raw in ("cand-2", "job-102", "job-102-s3"):
        assert raw not in text, raw
