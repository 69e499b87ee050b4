"""Events that name only the records DESIGN.md lists for them (or fewer) get the rest from Docket's
mirror before rules run, so every task carries real names and goes to the right coordinator:
posted through POST /api/events and processed by a real worker."""

import pytest

from tests import events as ev
from webapp.models import Event

pytestmark = pytest.mark.slow

SCHEDULE = {"id": "sched-9"}
SCHEDULE_REF = {"id": "sched-9"}
APPLICATION_REF = {"id": ev.APPLICATION["id"]}


def _by_rule(tasks, rule, status=None):
    return [t for t in tasks if t["rule"] == rule and (status is None or t["status"] == status)]


def _no_placeholders(tasks):
    for task in tasks:
        texts = [task["title"], task["recommended_action"], (task.get("completed_by") or {}).get("reason") or ""]
        assert not any("(unknown)" in text for text in texts), task


def _step(acme, run_worker, *envelopes):
    for envelope in envelopes:
        assert acme.post_event(envelope).status_code == 202, envelope
    run_worker()
    return acme.tasks()


def test_schedule_and_invite_events_naming_only_the_schedule_get_the_candidate_and_coordinator(
    make_account, run_worker
):
    acme = make_account()
    # The ATS told Docket about the application once, in full.
    tasks = _step(acme, run_worker, ev.stage_changed())
    [ready] = _by_rule(tasks, "ready_to_schedule", "open")
    assert ready["title"] == "Jordan Lee — Onsite"

    # schedule.created with the schedule, the application and the stage (what DESIGN.md lists).
    created = ev.envelope(
        "schedule.created", 10, schedule=SCHEDULE, application=APPLICATION_REF, stage={"id": ev.ONSITE["id"]}
    )
    tasks = _step(acme, run_worker, created)
    [done] = [t for t in tasks if t["id"] == ready["id"]]
    assert done["status"] == "completed"
    assert done["completed_by"]["reason"] == "Jordan Lee was scheduled for Onsite"

    # An answer to an invite names the schedule, the attendee and the response: nothing else.
    declined = ev.envelope(
        "attendee.responded", 20, schedule=SCHEDULE_REF, attendee=ev.INTERVIEWER, response="declined"
    )
    tasks = _step(acme, run_worker, declined)
    [decline] = _by_rule(tasks, "interviewer_declined", "open")
    assert decline["title"] == "Jordan Lee — Dana Wu declined"
    assert decline["recommended_action"] == "Replace Dana Wu in the Onsite interview of Jordan Lee, or move it"
    assert decline["assignee"]["email"] == ev.PAT["email"]  # the candidate's coordinator, not the creator

    # A cancellation naming the schedule and the application: its stage is the schedule's.
    cancelled = ev.envelope("schedule.cancelled", 30, schedule=SCHEDULE_REF, application=APPLICATION_REF)
    tasks = _step(acme, run_worker, cancelled)
    [again] = _by_rule(tasks, "schedule_cancelled", "open")
    assert again["title"] == "Jordan Lee — Onsite (cancelled)"
    assert again["recommended_action"] == "Reschedule Jordan Lee for Onsite (Senior Backend Engineer)"
    assert again["assignee"]["email"] == ev.PAT["email"]
    assert [t["status"] for t in tasks if t["id"] == decline["id"]] == ["completed"]
    _no_placeholders(tasks)
    assert not Event.select().where(Event.status == Event.INCOMPLETE).exists()


def test_application_events_naming_only_the_application_get_candidate_job_and_stage(make_account, run_worker):
    acme = make_account()
    _step(acme, run_worker, ev.stage_changed())

    # A move naming the application and the stage only: the candidate and the job are the mirror's.
    moved = ev.envelope("application.stage_changed", 10, application=APPLICATION_REF, stage=ev.SCREEN)
    tasks = _step(acme, run_worker, moved)
    [screen] = _by_rule(tasks, "ready_to_schedule", "open")
    assert screen["title"] == "Jordan Lee — Phone Screen"
    assert screen["recommended_action"] == "Schedule Jordan Lee for Phone Screen (Senior Backend Engineer)"
    assert screen["assignee"]["email"] == ev.PAT["email"]
    [onsite] = _by_rule(tasks, "ready_to_schedule", "completed")
    assert onsite["completed_by"]["reason"] == "Jordan Lee moved on to Phone Screen"

    # Closing names the application and a reason.
    closed = ev.envelope("application.closed", 20, application=APPLICATION_REF, reason="rejected")
    tasks = _step(acme, run_worker, closed)
    [done] = [t for t in tasks if t["id"] == screen["id"]]
    assert done["status"] == "completed"
    assert done["completed_by"]["reason"] == "the application of Jordan Lee was closed"
    _no_placeholders(tasks)


def test_stage_and_interview_events_naming_only_themselves_get_their_job(make_account, run_worker):
    acme = make_account()
    tasks = _step(acme, run_worker, ev.stage_event("created"), ev.interview_event("created", 1))
    [stage_task] = _by_rule(tasks, "new_stage", "open")
    [interview_task] = _by_rule(tasks, "new_interview", "open")
    assert stage_task["assignee"]["email"] == ev.JO["email"]  # the job's coordinator

    # Deleted, naming only the interview (as Greenhouse does) and only the stage.
    tasks = _step(
        acme,
        run_worker,
        ev.envelope("interview.deleted", 10, interview={"id": ev.INTERVIEW["id"]}),
        ev.envelope("stage.deleted", 11, stage={"id": ev.ONSITE["id"]}),
    )
    statuses = {t["id"]: t["status"] for t in tasks}
    assert statuses[interview_task["id"]] == "completed"
    assert statuses[stage_task["id"]] == "completed"


def test_an_event_that_names_too_little_to_key_its_task_says_so_on_its_inbox_row(make_account, run_worker, client):
    acme = make_account()
    # A schedule Docket has never heard of: the decline rule is for this event but cannot say which task.
    unknown = ev.envelope(
        "attendee.responded", 0, schedule={"id": "sched-unknown"}, attendee=ev.INTERVIEWER, response="declined"
    )
    response = acme.post_event(unknown)
    run_worker()
    assert acme.tasks() == []

    row = Event.get_by_id(response.get_json()["id"])
    assert row.status == Event.INCOMPLETE
    assert "interviewer_declined: no task opened: key path application.id is missing from the event" in row.note

    from tests.helpers import sign_in

    sign_in(client, acme.user.email)
    inbox = client.get("/admin/inbox?status=incomplete").get_data(as_text=True)
    assert "key path application.id is missing from the event" in inbox
    explained = client.get(f"/admin/inbox/{row.id}").get_data(as_text=True)
    assert "What rules could not do" in explained
    assert "key path application.id is missing from the event" in explained
