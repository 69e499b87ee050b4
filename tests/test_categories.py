"""Every category opens from its trigger and completes on each of its resolve paths,
through POST /api/events and a real worker process."""

import pytest

from tests import events as ev

# (rule, trigger, resolver, words the completion reason contains)
CASES = [
    ("ready_to_schedule", ev.stage_changed(), ev.schedule_event("created", 10), "scheduled"),
    ("ready_to_schedule", ev.stage_changed(), ev.stage_changed(ev.OFFER, minutes=10), "moved on"),
    ("ready_to_schedule", ev.stage_changed(), ev.application_closed(10), "closed"),
    ("schedule_cancelled", ev.schedule_event("cancelled"), ev.schedule_event("created", 10), "scheduled"),
    (
        "schedule_cancelled",
        ev.schedule_event("cancelled"),
        ev.stage_changed(ev.OFFER, previous=ev.ONSITE, minutes=10),
        "moved",
    ),
    ("schedule_cancelled", ev.schedule_event("cancelled"), ev.application_closed(10), "closed"),
    (
        "interviewer_declined",
        ev.responded(ev.INTERVIEWER, "declined"),
        ev.schedule_event("updated", 10, changes=ev.replaced(ev.INTERVIEWER)),
        "edited",
    ),
    (
        "interviewer_declined",
        ev.responded(ev.INTERVIEWER, "declined"),
        ev.schedule_event("updated", 10, changes=ev.moved(ev.INTERVIEWER, ev.ROOM)),
        "rescheduled",
    ),
    ("interviewer_declined", ev.responded(ev.INTERVIEWER, "declined"), ev.schedule_event("cancelled", 10), ""),
    (
        "interviewer_declined",
        ev.responded(ev.INTERVIEWER, "declined"),
        ev.responded(ev.INTERVIEWER, "accepted", 10),
        "accepted",
    ),
    ("interviewer_declined", ev.responded(ev.INTERVIEWER, "declined"), ev.application_closed(10), "closed"),
    (
        "room_declined",
        ev.responded(ev.ROOM, "declined"),
        ev.schedule_event("updated", 10, changes=ev.replaced(ev.ROOM)),
        "",
    ),
    (
        "room_declined",
        ev.responded(ev.ROOM, "declined"),
        ev.schedule_event("updated", 10, changes=ev.moved(ev.INTERVIEWER, ev.ROOM)),
        "rescheduled",
    ),
    ("room_declined", ev.responded(ev.ROOM, "declined"), ev.schedule_event("cancelled", 10), ""),
    ("room_declined", ev.responded(ev.ROOM, "declined"), ev.application_closed(10), "closed"),
    (
        "candidate_declined",
        ev.responded(ev.CANDIDATE_ATTENDEE, "declined"),
        ev.schedule_event("updated", 10, changes=ev.moved(ev.INTERVIEWER, ev.CANDIDATE_ATTENDEE)),
        "rescheduled",
    ),
    ("candidate_declined", ev.responded(ev.CANDIDATE_ATTENDEE, "declined"), ev.schedule_event("cancelled", 10), ""),
    ("candidate_declined", ev.responded(ev.CANDIDATE_ATTENDEE, "declined"), ev.application_closed(10), "closed"),
    ("new_job", ev.job_event("created"), ev.job_event("configured", 10, actor=ev.PAT), ""),
    ("new_job", ev.job_event("created"), ev.job_event("closed", 10), ""),
    ("new_stage", ev.stage_event("created"), ev.stage_event("configured", 10, actor=ev.PAT), ""),
    ("new_stage", ev.stage_event("created"), ev.stage_event("deleted", 10), ""),
    ("new_stage", ev.stage_event("created"), ev.job_event("closed", 10), ""),
    ("new_interview", ev.interview_event("created"), ev.interview_event("configured", 10, actor=ev.PAT), ""),
    ("new_interview", ev.interview_event("created"), ev.interview_event("deleted", 10), ""),
    ("new_interview", ev.interview_event("created"), ev.job_event("closed", 10), ""),
    ("broken_integration", ev.integration_event("failed"), ev.integration_event("restored", 10), ""),
]

# Who each category goes to in these events (DESIGN.md's assignee column).
ASSIGNEE = {
    "ready_to_schedule": ev.PAT["email"],  # the candidate's coordinator
    "schedule_cancelled": ev.PAT["email"],
    "interviewer_declined": ev.PAT["email"],
    "room_declined": ev.PAT["email"],
    "candidate_declined": ev.PAT["email"],
    "new_job": ev.JO["email"],  # the job's coordinator
    "new_stage": ev.JO["email"],
    "new_interview": ev.JO["email"],
    "broken_integration": None,  # the account's creator: the fixture's coordinator
}


def _case_id(case):
    changes = case[2]["data"].get("changes") or {}
    how = "-moved" if changes.get("moved") else "-replaced" if changes.get("removed_attendees") else ""
    return f"{case[0]}-by-{case[2]['type']}{how}"


@pytest.mark.slow
@pytest.mark.parametrize("rule, trigger, resolver, reason_words", CASES, ids=[_case_id(c) for c in CASES])
def test_category_opens_on_its_trigger_and_completes_on_each_resolve_path(
    make_account, run_worker, rule, trigger, resolver, reason_words
):
    acme = make_account()
    assert acme.post_event(trigger).status_code == 202
    run_worker()

    opened = acme.tasks(status="open")
    assert [t["rule"] for t in opened] == [rule]
    task = opened[0]
    assert task["assignee"]["email"] == (ASSIGNEE[rule] or acme.user.email)
    assert task["title"] and task["recommended_action"]

    assert acme.post_event(resolver).status_code == 202
    run_worker()

    after = acme.tasks(status="all")
    assert [t["status"] for t in after if t["id"] == task["id"]] == ["completed"]
    done = next(t for t in after if t["id"] == task["id"])
    assert done["completed_by"]["kind"] == "event"
    assert reason_words in done["completed_by"]["reason"]
    assert not [t for t in after if t["status"] == "open" and t["rule"] == rule]
