"""Scheduling done in Greenhouse completes tasks: the Harvest sync lists `GET /v1/scheduled_interviews`
(Greenhouse's documented answers, behind a fake transport) and raises schedule.created /
schedule.updated; Greenhouse's `interview_deleted` cancels a scheduled interview."""

import copy
import json
from urllib.parse import parse_qs, urlparse

import pytest

from webapp.models import Event, Schedule, ScheduledInterview, Stage

from .conftest import greenhouse_fixture, harvest_fixture
from .test_greenhouse_webhooks import post, posted
from .test_harvest_sync import API_KEY, BASE, open_job, stages, sync, user

# The documented stage move: application 265277 (Giuseppe Hurley) into Assessment (71416) of job 3485.
APPLICATION = 265277
ASSESSMENT = "71416"
KATE = "kate.austen@example.com"
BOONE = {"id": 4090, "name": "Boone Carlyle", "email": "boone.carlyle@example.com", "response_status": "accepted"}
ANA = {"id": 4095, "name": "Ana Lucia Cortez", "email": "ana.cortez@example.com", "response_status": "needs_action"}


def scheduled(item_id=9128481, interviewers=None, updated_at="2026-12-01T09:00:00.000Z", **changes):
    """Harvest's documented scheduled interview, for the documented application, booked in 2026."""
    item = copy.deepcopy(harvest_fixture("get_list_scheduled_interviews")[0])
    item.update(
        id=item_id,
        application_id=APPLICATION,
        start={"date_time": "2026-12-03T15:00:00.000Z"},
        end={"date_time": "2026-12-03T16:00:00.000Z"},
        status="scheduled",
        created_at="2026-12-01T09:00:00.000Z",
        updated_at=updated_at,
    )
    item["interview"] = {"id": 113101, "name": "Assessment"}
    if interviewers is not None:
        item["interviewers"] = interviewers
    item.update(changes)
    return item


def kate():
    return copy.deepcopy(harvest_fixture("get_list_scheduled_interviews")[0]["interviewers"][0])


@pytest.fixture
def acme(make_account, connect, harvest):
    handle = make_account("Acme")
    handle.integration = connect(handle, "greenhouse", api_key=API_KEY)
    harvest.serve("/jobs", [open_job()])
    harvest.serve("/jobs/146218/stages", stages())
    harvest.serve("/users/2000", user(2000, "jack.shepard@acme.test", "Jack Shepard"))  # the organizer
    return handle


@pytest.fixture
def moved_into_assessment(client, acme, drain):
    """The documented candidate_stage_change, into a stage set up for scheduling: Ready to Schedule."""
    Stage.create(account=acme.account, external_id=ASSESSMENT, name="Assessment", scheduling_enabled=True)
    post(client, acme.account, greenhouse_fixture("candidate_stage_change"), event_id="move")
    drain()
    [task] = acme.tasks()
    assert (task["category"], task["status"]) == ("Ready to Schedule", "open")
    return task


def decline(acme, email, minutes=0):
    """An interviewer's calendar answer to the schedule made in Greenhouse (through the API)."""
    [schedule] = Schedule.select().where(Schedule.source == "greenhouse", Schedule.status != "cancelled")
    response = acme.post_event(
        {
            "id": f"decline-{email}",
            "type": "attendee.responded",
            "occurred_at": f"2026-12-01T12:{minutes:02d}:00Z",
            "data": {
                "schedule": {"id": schedule.external_id},
                "attendee": {"email": email, "kind": "interviewer"},
                "response": "declined",
            },
        }
    )
    assert response.status_code == 202, response.get_json()


def listing_urls(harvest):
    return [url for _, url, _ in harvest.calls if urlparse(str(url)).path == "/v1/scheduled_interviews"]


def test_ready_to_schedule_completes_when_the_sync_sees_the_interview_scheduled_in_greenhouse(
    harvest, acme, drain, moved_into_assessment
):
    harvest.serve("/scheduled_interviews", [scheduled()])
    assert sync(acme)["events"] == ["schedule.created"]
    drain()
    [task] = acme.tasks()
    assert task["status"] == "completed"
    assert task["completed_by"]["reason"] == "Giuseppe Hurley was scheduled for Assessment"
    [row] = Event.select().where(Event.type == "schedule.created")
    # Docket made the envelope from Harvest's answer: its source is the ATS; the inbox row is Docket's own.
    assert row.payload["source"] == "greenhouse" and row.source == "docket" and row.status == Event.PROCESSED
    # The schedule is Docket's, per application and stage, with Greenhouse's interview in it.
    schedule = Schedule.get(Schedule.source == "greenhouse")
    assert (schedule.application.external_id, schedule.stage.external_id) == (str(APPLICATION), ASSESSMENT)
    [si] = schedule.interviews
    assert (si.external_id, si.name, si.room_name) == ("9128481", "Assessment", "Big Conference Room")
    assert [(a.email, a.kind, a.response) for a in si.attendees] == [(KATE, "interviewer", "needs_action")]


def test_a_resync_of_the_same_listing_is_a_redelivery_not_a_second_schedule(harvest, acme, drain):
    harvest.serve("/scheduled_interviews", [scheduled()])
    assert sync(acme)["events"] == ["schedule.created"]
    assert sync(acme)["events"] == []
    drain()
    assert Event.select().where(Event.type.startswith("schedule.")).count() == 1
    assert Schedule.select().count() == 1
    # The first sync lists what is still to come; the next, what changed since the latest update seen.
    first, second = (parse_qs(urlparse(u).query) for u in listing_urls(harvest))
    assert "ends_after" in first and "updated_after" not in first
    assert second["updated_after"] == ["2026-12-01T09:00:00Z"] and second["per_page"] == ["100"]


def test_the_event_id_is_stable_so_a_sync_that_repeats_after_losing_its_cursor_is_a_duplicate(harvest, acme):
    harvest.serve("/scheduled_interviews", [scheduled()])
    sync(acme)
    [first] = Event.select().where(Event.type == "schedule.created")
    from webapp.inbox import accept

    _, created = accept(acme.account, first.source, first.external_id, first.payload, type="schedule.created")
    assert created is False


def test_an_interviewer_swapped_in_greenhouse_completes_that_interviewers_decline_but_not_anothers(
    harvest, acme, drain, moved_into_assessment
):
    harvest.serve("/scheduled_interviews", [scheduled(interviewers=[kate(), BOONE])], times=1)
    swapped = scheduled(interviewers=[ANA, BOONE], updated_at="2026-12-02T10:00:00.000Z")
    harvest.serve("/scheduled_interviews", [swapped])
    sync(acme)
    drain()
    decline(acme, KATE, 0)
    decline(acme, BOONE["email"], 1)
    drain()
    declines = {t["title"]: t for t in acme.tasks(category="interviewer_declined")}
    assert len(declines) == 2 and all(t["status"] == "open" for t in declines.values())

    assert sync(acme)["events"] == ["schedule.updated"]
    drain()
    [updated] = Event.select().where(Event.type == "schedule.updated")
    changes = updated.payload["data"]["changes"]
    assert changes["removed_attendees"] == [KATE] and changes["added_attendees"] == [ANA["email"]]
    assert changes["summary"] == "swapped interviewers in the assessment"
    tasks = {t["title"]: t for t in acme.tasks(category="interviewer_declined")}
    kate_task = tasks["Giuseppe Hurley — Kate Austen declined"]
    assert kate_task["status"] == "completed"
    assert kate_task["completed_by"]["reason"] == (
        "the schedule was edited in the ATS (swapped interviewers in the assessment)"
    )
    assert tasks["Giuseppe Hurley — Boone Carlyle declined"]["status"] == "open"


def test_a_scheduled_interview_moved_in_greenhouse_completes_every_decline_of_it(harvest, acme, drain):
    harvest.serve("/scheduled_interviews", [scheduled(interviewers=[kate(), BOONE])], times=1)
    moved = scheduled(
        interviewers=[kate(), BOONE],
        start={"date_time": "2026-12-04T15:00:00.000Z"},
        end={"date_time": "2026-12-04T16:00:00.000Z"},
        updated_at="2026-12-02T10:00:00.000Z",
    )
    harvest.serve("/scheduled_interviews", [moved])
    sync(acme)
    drain()
    decline(acme, KATE)
    drain()
    assert sync(acme)["events"] == ["schedule.updated"]
    drain()
    [task] = acme.tasks(category="interviewer_declined")
    assert task["status"] == "completed"
    changes = Event.get(Event.type == "schedule.updated").payload["data"]["changes"]
    assert changes["moved"] is True and set(changes["rescheduled_attendees"]) == {KATE, BOONE["email"]}


def test_an_answer_or_a_status_greenhouse_moves_along_changes_nothing_for_the_rulebook(harvest, acme, drain):
    harvest.serve("/scheduled_interviews", [scheduled()], times=1)
    answered = scheduled(status="awaiting_feedback", updated_at="2026-12-03T17:00:00.000Z")
    answered["interviewers"][0]["response_status"] = "accepted"
    harvest.serve("/scheduled_interviews", [answered])
    sync(acme)
    assert sync(acme)["events"] == []
    [attendee] = ScheduledInterview.get(ScheduledInterview.external_id == "9128481").attendees
    assert attendee.response == "accepted"


def test_a_location_change_is_an_edit(harvest, acme, drain):
    harvest.serve("/scheduled_interviews", [scheduled()], times=1)
    harvest.serve(
        "/scheduled_interviews", [scheduled(location="Small Conference Room", updated_at="2026-12-02T00:00:00Z")]
    )
    sync(acme)
    assert sync(acme)["events"] == ["schedule.updated"]
    changes = Event.get(Event.type == "schedule.updated").payload["data"]["changes"]
    assert changes["interviews"] == [
        {"interview": "Assessment", "change": "location", "from": "Big Conference Room", "to": "Small Conference Room"}
    ]
    assert (
        changes["removed_attendees"] == [] and changes["summary"] == "moved the location of the interview"
    )  # no stage known


def test_interviews_of_one_application_and_stage_make_one_schedule_and_the_stage_comes_from_the_mirror(
    harvest, acme, drain
):
    # Interview 6002 is the documented Face to Face stage's Executive Interview (mirrored by the
    # jobs sync); the application is in no stage the mirror knows.
    second = scheduled(item_id=9128490, interview={"id": 6001, "name": "Cultural Fit Interview"})
    harvest.serve("/scheduled_interviews", [scheduled(interview={"id": 6002, "name": "Executive Interview"}), second])
    assert sync(acme)["events"] == ["schedule.created"]
    [schedule] = Schedule.select()
    assert schedule.stage.external_id == "72200"
    assert sorted(si.external_id for si in schedule.interviews) == ["9128481", "9128490"]


def test_scheduled_interviews_are_listed_page_by_page(harvest, acme):
    next_page = f'<{BASE}/scheduled_interviews?page=2&per_page=100>; rel="next"'
    harvest.serve("/scheduled_interviews", [scheduled()], headers={"Link": next_page})
    other = scheduled(item_id=9128499, application_id=432905)
    harvest.serve("/scheduled_interviews", [other], page=2)
    assert sync(acme)["events"] == ["schedule.created", "schedule.created"]
    assert len(listing_urls(harvest)) == 2 and "page=2" in listing_urls(harvest)[1]


def test_an_all_day_interview_runs_from_midnight_to_midnight(harvest, acme):
    all_day = copy.deepcopy(harvest_fixture("get_list_scheduled_interviews")[1])  # documented: a `date`
    harvest.serve("/scheduled_interviews", [all_day])
    sync(acme)
    si = ScheduledInterview.get(ScheduledInterview.external_id == "9128482")
    assert (si.starts_at.isoformat(), si.ends_at.isoformat()) == (
        "2017-08-22T00:00:00+00:00",
        "2017-08-23T00:00:00+00:00",
    )


# -- interview_deleted: Greenhouse's scheduled interview is cancelled -----------------------------------


def deleted(client, acme, scheduled_id, event_id):
    body = json.loads(greenhouse_fixture("interview_deleted"))
    body["payload"]["interview"]["id"] = scheduled_id
    post(client, acme.account, json.dumps(body).encode(), event_id=event_id)


def test_interview_deleted_removes_that_interview_and_cancels_the_schedule_left_with_none(
    client, harvest, acme, drain, moved_into_assessment
):
    other = scheduled(item_id=9128490, interviewers=[BOONE], interview={"id": 113102, "name": "Portfolio Review"})
    harvest.serve("/scheduled_interviews", [scheduled(), other])
    sync(acme)
    drain()
    decline(acme, KATE)
    drain()

    deleted(client, acme, 9128481, "gone-1")
    drain()
    row = posted("gone-1")
    assert row.status == Event.PROCESSED, row.last_error
    [kate_declined] = acme.tasks(category="interviewer_declined")
    assert kate_declined["status"] == "completed"
    assert kate_declined["completed_by"]["reason"] == (
        "the schedule was edited in the ATS (removed an interview from the assessment)"
    )
    schedule = Schedule.get(Schedule.source == "greenhouse")
    assert [si.external_id for si in schedule.interviews] == ["9128490"]

    deleted(client, acme, 9128490, "gone-2")
    drain()
    assert Schedule.get_by_id(schedule.id).status == "cancelled"
    cancelled = [t for t in acme.tasks() if t["category"] == "Schedule Cancelled"]
    assert [(t["status"], t["title"]) for t in cancelled] == [("open", "Giuseppe Hurley — Assessment (cancelled)")]
