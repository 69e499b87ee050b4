"""Doing the recommended action in a real browser, for each of the nine categories: the task
appears (its trigger posted to the API and processed), the coordinator follows its link, does
the action, and sees the task completed automatically with what completed it. Plus the conflict
warning and validation errors of the schedule form."""

import base64
import datetime as dt
import re

import pytest
from playwright.sync_api import expect
from werkzeug.datastructures import MultiDict

from tests import events as ev
from webapp import scheduling
from webapp.models import Application, Room, Schedule, Stage, User, utcnow
from webapp.pipeline import drain

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery"
DAY = (utcnow() + dt.timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)


def local(hour, minute=0):
    return (DAY + dt.timedelta(hours=hour, minutes=minute)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def acme(make_account):
    """Acme: Casey coordinates the job and the candidates; Dana and Sam interview; two rooms."""
    handle = make_account("Acme")
    casey = {"email": handle.user.email, "name": handle.user.name}
    handle.job = {**ev.JOB, "coordinator": casey}
    handle.candidate = {**ev.CANDIDATE, "coordinator": casey}
    handle.dana = User.for_email(handle.account, "dana.wu@acme.test", "Dana Wu")
    handle.sam = User.for_email(handle.account, "sam.lee@acme.test", "Sam Lee")
    handle.room_4a = Room.create(account=handle.account, name="Room 4A", email="room-4a@resource.acme.test")
    handle.room_5b = Room.create(account=handle.account, name="Room 5B", email="room-5b@resource.acme.test")
    return handle


def trigger(handle, envelope):
    """Post an event to the API as the ATS or a calendar would, and process it."""
    assert handle.post_event(envelope).status_code == 202
    drain()


def declined(handle, attendee, schedule):
    """A calendar's answer: someone invited to the schedule declined, just now."""
    return {
        **ev.envelope(
            "attendee.responded",
            schedule={"id": schedule.external_id},
            application=ev.APPLICATION,
            candidate=handle.candidate,
            job=ev.JOB,
            stage=ev.ONSITE,
            attendee=attendee,
            response="declined",
        ),
        "occurred_at": utcnow().isoformat(),
    }


def sign_in(page, email):
    page.goto("/tasks")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My tasks")).to_be_visible()


def follow_task(page, title):
    """From the list, follow the task's link to the form that resolves it."""
    row = page.locator("#task-rows tr.task", has_text=title)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=re.compile(r"^Do it")).click()


def expect_completed(page, reason, title=None):
    """Back on the list with a notice; process what the action emitted, then see the task (the
    one with this title, when given) completed automatically, saying why, among everyone's."""
    expect(page).to_have_url(re.compile(r"/tasks(\?|$)"))
    expect(page.locator("#notice")).not_to_be_empty()
    drain()
    page.goto("/tasks?assignee=all&completed=1")
    rows = page.locator("#task-rows tr.is-completed", has_text=title) if title else page.locator("#task-rows")
    expect(rows.locator(".task-completion", has_text=f"Completed automatically: {reason}").first).to_be_visible()


def book(handle, application_id="app-1", start=(10, 0), end=(11, 0), interviewers=None, room=None):
    """A schedule made in Docket, as the schedule form makes it."""
    form = MultiDict(
        {
            "interview_count": "1",
            "interviews-0-name": "Onsite",
            "interviews-0-starts_at": local(*start),
            "interviews-0-ends_at": local(*end),
            "interviews-0-room": str(room.id) if room else "",
            "interviews-0-invite_candidate": "1",
        }
    )
    for user in interviewers or [handle.dana]:
        form.add("interviews-0-interviewers", str(user.id))
    plan = scheduling.check(handle.account, scheduling.slots_from_form(form))
    application = Application.get(Application.external_id == application_id)
    schedule = scheduling.create_schedule(
        handle.account, handle.user, application, Stage.get(Stage.external_id == "stage-onsite"), plan.slots
    )
    drain()
    return schedule


def fill_interview(page, index=0, start=None, end=None, interviewers=None, room=None):
    prefix = f"#interviews-{index}-"
    if start:
        page.locator(prefix + "starts_at").fill(local(*start))
    if end:
        page.locator(prefix + "ends_at").fill(local(*end))
    if interviewers is not None:
        page.locator(prefix + "interviewers").select_option([str(u.id) for u in interviewers])
    if room is not None:
        page.locator(prefix + "room").select_option(str(room.id) if room else "")


def test_ready_to_schedule_schedule_the_candidate(page, acme, screenshot):
    trigger(acme, ev.stage_changed(candidate=acme.candidate))
    sign_in(page, acme.user.email)
    follow_task(page, "Jordan Lee — Onsite")
    expect(page.get_by_role("heading", name="Schedule Jordan Lee for Onsite")).to_be_visible()
    fill_interview(page, start=(10, 0), end=(11, 0), interviewers=[acme.dana, acme.sam], room=acme.room_4a)
    screenshot("schedule-form")
    page.get_by_role("button", name="Schedule and send invites").click()
    expect_completed(page, "Casey Coordinator scheduled Jordan Lee for the onsite")
    assert Schedule.select().count() == 1


def test_schedule_cancelled_schedule_again(page, acme):
    trigger(acme, ev.stage_changed(candidate=acme.candidate))
    schedule = book(acme)
    scheduling.cancel_schedule(acme.account, acme.dana, schedule)  # a colleague cancelled it
    drain()
    sign_in(page, acme.user.email)
    follow_task(page, "Jordan Lee — Onsite (cancelled)")
    fill_interview(page, start=(14, 0), end=(15, 0), interviewers=[acme.sam])
    page.get_by_role("button", name="Schedule and send invites").click()
    expect_completed(page, "Casey Coordinator scheduled Jordan Lee for the onsite", "Jordan Lee — Onsite (cancelled)")


@pytest.mark.parametrize(
    "attendee, title, change, reason",
    [
        (
            ev.INTERVIEWER,
            "Jordan Lee — Dana Wu declined",
            "interviewer",
            "Casey Coordinator swapped interviewers in the onsite",
        ),
        (ev.ROOM, "Jordan Lee — room Room 4A declined", "room", "Casey Coordinator switched the room of the onsite"),
        (ev.CANDIDATE_ATTENDEE, "Jordan Lee declined Onsite", "time", "Casey Coordinator rescheduled the onsite"),
    ],
    ids=["interviewer-declined", "room-declined", "candidate-declined"],
)
def test_declined_edit_the_schedule(page, acme, attendee, title, change, reason):
    trigger(acme, ev.stage_changed(candidate=acme.candidate))
    schedule = book(acme, room=acme.room_4a)
    trigger(acme, declined(acme, attendee, schedule))
    sign_in(page, acme.user.email)
    follow_task(page, title)
    expect(page.get_by_role("heading", name="Edit the schedule for Onsite")).to_be_visible()
    if change == "interviewer":
        fill_interview(page, interviewers=[acme.sam])
    elif change == "room":
        fill_interview(page, room=acme.room_5b)
    else:
        fill_interview(page, start=(15, 0), end=(16, 0))
    page.get_by_role("button", name="Save changes").click()
    expect_completed(page, reason)


def test_interviewer_declined_cancel_the_schedule(page, acme):
    trigger(acme, ev.stage_changed(candidate=acme.candidate))
    schedule = book(acme)
    trigger(acme, declined(acme, ev.INTERVIEWER, schedule))
    sign_in(page, acme.user.email)
    follow_task(page, "Jordan Lee — Dana Wu declined")
    page.get_by_role("link", name="Cancel the schedule…").click()
    page.get_by_role("button", name="Yes, cancel the schedule").click()
    expect_completed(page, "Casey Coordinator cancelled the onsite")


def test_new_job_set_it_up(page, acme):
    trigger(acme, ev.job_event("created", job=acme.job))
    sign_in(page, acme.user.email)
    follow_task(page, "New job: Senior Backend Engineer")
    page.get_by_label("Default interview length (minutes)").fill("45")
    page.get_by_label("Default interviewers").select_option([str(acme.dana.id)])
    page.get_by_role("button", name="Save the job's set-up").click()
    expect_completed(page, "Casey Coordinator set up Senior Backend Engineer")


@pytest.mark.parametrize("choice, words", [("Enable scheduling", "enabled"), ("Decline scheduling", "declined")])
def test_new_stage_enable_or_decline_scheduling(page, acme, choice, words):
    trigger(acme, ev.envelope("stage.created", job=acme.job, stage=ev.ONSITE))
    sign_in(page, acme.user.email)
    follow_task(page, "New stage: Onsite (Senior Backend Engineer)")
    page.get_by_role("button", name=choice).click()
    expect_completed(page, f"Casey Coordinator {words} scheduling for Onsite")


def test_new_interview_add_a_template(page, acme):
    trigger(acme, ev.envelope("interview.created", job=acme.job, stage=ev.ONSITE, interview=ev.INTERVIEW))
    sign_in(page, acme.user.email)
    follow_task(page, "New interview: System Design (Senior Backend Engineer)")
    page.get_by_label("Length (minutes)").fill("90")
    page.get_by_label("Interviewers").select_option([str(acme.dana.id), str(acme.sam.id)])
    page.get_by_label("Needs a room").check()
    page.get_by_label("Usual room").select_option(str(acme.room_4a.id))
    page.get_by_role("button", name="Save the interview template").click()
    expect_completed(page, "Casey Coordinator added an interview template for System Design")


def test_broken_integration_reconnect(page, app, acme):
    from tests.integrations.test_harvest_sync import FakeHarvest, open_job, stages, user
    from webapp.integrations.sync import run_sync
    from webapp.models import Integration

    greenhouse = Integration.create(account=acme.account, provider="greenhouse", webhook_secret="s", api_key="revoked")
    harvest = FakeHarvest()
    harvest.serve("/jobs", {"message": "Invalid Basic Auth credentials"}, status=401, times=1)
    harvest.serve("/jobs", [open_job()])
    harvest.serve("/jobs/146218/stages", stages())
    harvest.serve("/users/122635", user(122635, "teddy.pizzazz@acme.test", "Teddy Pizzazz"))
    app.config["HARVEST_TRANSPORT"] = harvest
    run_sync(greenhouse.id)  # the periodic sync: Greenhouse refuses the key
    drain()

    sign_in(page, acme.user.email)
    follow_task(page, "Greenhouse integration is broken")
    expect(page).to_have_url(re.compile(r"/admin/integrations#integration-greenhouse$"))
    expect(page.locator("#failure-greenhouse")).to_contain_text(
        "Greenhouse refused the Harvest API key (401): Invalid Basic Auth credentials"
    )
    section = page.locator("section.integration", has=page.locator("#integration-greenhouse"))
    section.get_by_label("API key").fill("the-new-key")
    section.get_by_role("button", name="Save").click()
    expect(page.locator("body")).to_contain_text("saved")
    page.locator("section.integration", has=page.locator("#integration-greenhouse")).get_by_role(
        "button", name="Sync now"
    ).click()
    run_sync(greenhouse.id)  # what the worker does with the sync the button queued
    drain()

    _, _, headers = harvest.calls[-1]
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"the-new-key:").decode()
    page.goto("/tasks?completed=1")
    row = page.locator("#task-rows tr.task", has_text="Greenhouse integration is broken")
    expect(row.locator(".task-completion")).to_contain_text("Completed automatically: the integration works again")


def test_conflict_warning_shows_before_saving(page, acme, screenshot):
    trigger(acme, ev.stage_changed(candidate=acme.candidate))
    trigger(
        acme,
        ev.stage_changed(
            application={"id": "app-2"},
            candidate={**acme.candidate, "id": "cand-2", "name": "Maria Garcia"},
        ),
    )
    book(acme, application_id="app-2", interviewers=[acme.dana], room=acme.room_4a)
    sign_in(page, acme.user.email)
    follow_task(page, "Jordan Lee — Onsite")
    fill_interview(page, start=(10, 30), end=(11, 30), interviewers=[acme.dana])
    warning = page.locator("#conflicts")
    # Each change asks the server again; allow for a loaded machine.
    expect(warning).to_contain_text("Dana Wu is already booked", timeout=15_000)
    expect(warning).to_contain_text("Onsite with Maria Garcia")
    fill_interview(page, room=acme.room_4a)
    expect(warning).to_contain_text("Room 4A is already booked", timeout=15_000)
    screenshot("schedule-conflict")
    assert Schedule.select().count() == 1  # nothing saved by the check
    page.get_by_role("button", name="Schedule and send invites").click()
    expect(page.get_by_role("button", name="Book anyway")).to_be_visible()
    assert Schedule.select().count() == 1
    page.get_by_role("button", name="Book anyway").click()
    expect(page).to_have_url(re.compile(r"/tasks(\?|$)"))
    assert Schedule.select().count() == 2


def test_validation_errors_show_beside_the_field_and_save_nothing(page, acme, screenshot):
    trigger(acme, ev.stage_changed(candidate=acme.candidate))
    sign_in(page, acme.user.email)
    follow_task(page, "Jordan Lee — Onsite")
    fill_interview(page, start=(11, 0), end=(10, 0), interviewers=[], room=acme.room_4a)
    page.get_by_role("button", name="Add an interview").click()
    expect(page.locator("fieldset.slot")).to_have_count(2)
    fill_interview(page, index=1, start=(10, 0), end=(11, 0), interviewers=[acme.sam], room=acme.room_4a)
    page.locator("#interviews-1-name").fill("Design")
    fill_interview(page, index=0, start=(10, 0), end=(9, 0))
    page.get_by_role("button", name="Schedule and send invites").click()
    expect(page.locator("#interviews-0-ends_at-error")).to_have_text("The end must be after the start.")
    expect(page.locator("#interviews-0-interviewers-error")).to_have_text("Choose at least one interviewer.")
    expect(page.locator("#interviews-0-ends_at")).to_have_attribute("aria-invalid", "true")
    screenshot("schedule-errors")
    # Fix the times and the interviewer: the room is now booked twice at the same time.
    fill_interview(page, index=0, start=(10, 0), end=(11, 0), interviewers=[acme.dana])
    page.get_by_role("button", name="Schedule and send invites").click()
    expect(page.locator("#interviews-1-room-error")).to_have_text(
        "Room 4A is booked twice: interview 1 is in it at that time."
    )
    expect(page.locator("#interviews-0-ends_at-error")).to_have_count(0)
    assert Schedule.select().count() == 0
