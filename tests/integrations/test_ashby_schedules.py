"""Scheduling done in Ashby completes tasks: `interviewScheduleCreate` / `interviewScheduleUpdate`
(payloads written from Ashby's documentation) raise schedule.created / schedule.updated /
schedule.cancelled with `source` ashby."""

import copy
import json

import pytest

from tests.helpers import csrf_from, sign_in_coordinator
from webapp.models import Event, Schedule, Stage

from .test_ashby_webhooks import TECHNICAL, post, raw

SCHEDULE = "9d34f544-c150-4d70-91c4-e8b0b4a72846"
DANA = "dana.wu@acme.test"
LEE = "lee.park@acme.test"


@pytest.fixture
def acme(make_account, connect):
    handle = make_account("Acme")
    connect(handle, "ashby")
    return handle


@pytest.fixture
def ready_to_schedule(client, acme, drain):
    """The documented stage change into a stage set up for scheduling: Ready to Schedule."""
    Stage.create(account=acme.account, external_id=TECHNICAL, name="Technical Interview", scheduling_enabled=True)
    post(client, acme.account, raw("candidateStageChange"))
    drain()
    [task] = acme.tasks()
    assert (task["category"], task["status"]) == ("Ready to Schedule", "open")
    return task


def variant(name, action_id, **schedule_changes):
    """A documented payload with another delivery id and some of its schedule's fields changed."""
    body = json.loads(raw(name))
    body["webhookActionId"] = action_id
    body["data"]["interviewSchedule"].update(schedule_changes)
    return json.dumps(body).encode()


def decline(acme, email, minute):
    response = acme.post_event(
        {
            "id": f"decline-{email}",
            "type": "attendee.responded",
            "occurred_at": f"2026-11-29T12:{minute:02d}:00Z",
            "data": {
                "schedule": {"id": SCHEDULE},
                "attendee": {"email": email, "kind": "interviewer"},
                "response": "declined",
            },
        }
    )
    assert response.status_code == 202, response.get_json()


def declines(acme):
    return {t["title"]: t for t in acme.tasks(category="interviewer_declined")}


def test_a_schedule_made_in_ashby_completes_ready_to_schedule(client, acme, drain, ready_to_schedule):
    post(client, acme.account, raw("interviewScheduleCreate"))
    drain()
    [task] = acme.tasks()
    assert task["status"] == "completed"
    assert task["completed_by"]["reason"] == (
        "Kit Coordinator scheduled Renée Okafor for the technical interview in Ashby"
    )
    row = Event.get(Event.type == "interviewScheduleCreate")
    assert (row.source, row.status) == ("ashby", Event.PROCESSED)
    schedule = Schedule.get(Schedule.external_id == SCHEDULE)
    assert (schedule.source, schedule.stage.external_id, schedule.organizer.email) == (
        "ashby",
        TECHNICAL,
        "kit.coordinator@acme.test",
    )
    [interview] = schedule.interviews
    assert interview.room_name == "Google Meet"
    assert sorted(a.email for a in interview.attendees) == [DANA, LEE]


def test_the_update_ashby_sends_with_every_create_raises_nothing_more(client, acme, drain):
    post(client, acme.account, raw("interviewScheduleCreate"))
    same = variant("interviewScheduleCreate", "a0c1e2d3-0000-4000-8000-000000000001")
    body = json.loads(same)
    body["action"] = "interviewScheduleUpdate"
    post(client, acme.account, json.dumps(body).encode())
    drain()
    rows = {r.type: r.status for r in Event.select()}
    assert rows == {"interviewScheduleCreate": Event.PROCESSED, "interviewScheduleUpdate": Event.PROCESSED}
    assert Schedule.select().count() == 1


def test_an_interviewer_swapped_in_ashby_completes_that_interviewers_decline_but_not_anothers(
    client, acme, drain, ready_to_schedule
):
    post(client, acme.account, raw("interviewScheduleCreate"))
    drain()
    decline(acme, DANA, 0)
    decline(acme, LEE, 1)
    drain()
    assert [t["status"] for t in declines(acme).values()] == ["open", "open"]

    post(client, acme.account, raw("interviewScheduleUpdate"))  # Lee Park is swapped for Ana Ruiz
    drain()
    tasks = declines(acme)
    lee = tasks["Renée Okafor — Lee Park declined"]
    assert lee["status"] == "completed"
    assert lee["completed_by"]["reason"] == (
        "the schedule was edited in the ATS (swapped interviewers in the technical interview)"
    )
    assert tasks["Renée Okafor — Dana Wu declined"]["status"] == "open"


def test_a_schedule_cancelled_in_ashby_raises_schedule_cancelled(client, acme, drain, ready_to_schedule):
    post(client, acme.account, raw("interviewScheduleCreate"))
    drain()
    decline(acme, DANA, 0)
    drain()
    cancelled = variant(
        "interviewScheduleUpdate",
        "c4nc3113-0000-4000-8000-000000000002",
        status="Cancelled",
        updatedAt="2026-12-01T08:00:00Z",
    )
    post(client, acme.account, cancelled)
    drain()
    assert Schedule.get(Schedule.external_id == SCHEDULE).status == "cancelled"
    by_category = {t["category"]: t for t in acme.tasks()}
    assert by_category["Interviewer Declined"]["status"] == "completed"
    assert by_category["Interviewer Declined"]["completed_by"]["reason"] == "the schedule was cancelled"
    assert by_category["Schedule Cancelled"]["status"] == "open"
    assert by_category["Schedule Cancelled"]["recommended_action"] == (
        "Reschedule Renée Okafor for Technical Interview (First Designer)"
    )

    # Booked again in Ashby: the cancellation's task completes.
    again = variant(
        "interviewScheduleUpdate",
        "b00ked-a9a1n-4000-8000-000000000003",
        status="Scheduled",
        updatedAt="2026-12-01T09:00:00Z",
    )
    post(client, acme.account, again)
    drain()
    assert {t["category"]: t["status"] for t in acme.tasks()}["Schedule Cancelled"] == "completed"


def test_a_schedule_still_to_be_booked_is_nothing_for_docket(client, acme, drain, ready_to_schedule):
    body = json.loads(raw("interviewScheduleCreate"))
    schedule = body["data"]["interviewSchedule"]
    schedule.update(status="NeedsScheduling", scheduledBy=None, interviewEvents=[])
    post(client, acme.account, json.dumps(body).encode())
    drain()
    assert Event.get(Event.type == "interviewScheduleCreate").status == Event.IGNORED
    assert [t["status"] for t in acme.tasks()] == ["open"]
    assert Schedule.select().count() == 0


def test_a_moved_interview_completes_every_decline_of_it(client, acme, drain):
    post(client, acme.account, raw("interviewScheduleCreate"))
    drain()
    decline(acme, DANA, 0)
    drain()
    body = json.loads(raw("interviewScheduleCreate"))
    body["webhookActionId"] = "m0ved-0000-4000-8000-000000000004"
    body["action"] = "interviewScheduleUpdate"
    event = copy.deepcopy(body["data"]["interviewSchedule"]["interviewEvents"][0])
    event.update(startTime="2026-12-04T15:00:00.000Z", endTime="2026-12-04T16:00:00.000Z")
    body["data"]["interviewSchedule"].update(interviewEvents=[event], updatedAt="2026-11-30T10:00:00.000Z")
    post(client, acme.account, json.dumps(body).encode())
    drain()
    [task] = acme.tasks(category="interviewer_declined")
    assert task["status"] == "completed"


def test_a_schedule_made_in_ashby_is_edited_there_not_in_docket(client, acme, drain):
    post(client, acme.account, raw("interviewScheduleCreate"))
    drain()
    sign_in_coordinator(client, acme.account)
    page = client.get(f"/schedules/{SCHEDULE}/edit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "made in Ashby: edit or cancel it there" in html
    assert "Cancel the schedule" not in html and "Save changes" not in html
    token = csrf_from(html)
    assert client.post(f"/schedules/{SCHEDULE}/edit", data={"csrf_token": token}).status_code == 409
    assert client.post(f"/schedules/{SCHEDULE}/cancel", data={"csrf_token": token}).status_code == 303
    assert Schedule.get(Schedule.external_id == SCHEDULE).status == "scheduled"
    assert Event.select().where(Event.source == "docket").count() == 0
