"""Scheduling in Docket: the schedule form pre-filled from its task, saving, editing and cancelling
(each through the calendar port and into the inbox), conflicts, validation errors, and access."""

import copy
import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from werkzeug.datastructures import MultiDict

from tests import events as ev
from tests.helpers import HTMX, process, sign_in
from webapp.calendars import memory_calendar
from webapp.models import Attendee, Room, Schedule, ScheduledInterview, Task, User, utcnow
from webapp.pipeline import drain
from webapp.views import links

DAY = (utcnow() + dt.timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)


def local(hour, minute=0, day=DAY):
    """A time as a datetime-local field holds it (UTC)."""
    return (day + dt.timedelta(hours=hour, minutes=minute)).strftime("%Y-%m-%dT%H:%M")


def slot_fields(index, name="Onsite", start=(10, 0), end=(11, 0), interviewers=(), room=None, invite=True):
    fields = {
        f"interviews-{index}-name": name,
        f"interviews-{index}-starts_at": local(*start) if start else "",
        f"interviews-{index}-ends_at": local(*end) if end else "",
        f"interviews-{index}-interviewers": [str(getattr(u, "id", u)) for u in interviewers],
        f"interviews-{index}-room": str(getattr(room, "id", room)) if room else "",
    }
    if invite:
        fields[f"interviews-{index}-invite_candidate"] = "1"
    return fields


def schedule_form(csrf, *slots, action="save"):
    data = {"csrf_token": csrf, "interview_count": str(len(slots)), "action": action}
    for slot in slots:
        data.update(slot)
    return data


@pytest.fixture
def acme(make_account, client):
    """Acme: Casey signed in, interviewers Dana and Sam, two rooms, and Jordan ready to schedule for the onsite."""
    handle = make_account("Acme")
    handle.dana = User.for_email(handle.account, "dana.wu@acme.test", "Dana Wu")
    handle.sam = User.for_email(handle.account, "sam.lee@acme.test", "Sam Lee")
    handle.room_4a = Room.create(account=handle.account, name="Room 4A", email="room-4a@resource.acme.test")
    handle.room_5b = Room.create(account=handle.account, name="Room 5B", email="room-5b@resource.acme.test")
    process(handle, ev.stage_changed())
    handle.task = Task.get(Task.rule_id == "ready_to_schedule")
    handle.csrf = sign_in(client, handle.user.email)
    return handle


def new_url(task=None):
    return "/schedules/new?application=app-1&stage=stage-onsite" + (f"&task={task.id}" if task else "")


def book(client, acme, *slots, action="save"):
    return client.post(new_url(acme.task), data=schedule_form(acme.csrf, *slots, action=action))


def test_ready_to_schedule_task_links_to_the_schedule_form_prefilled_from_it(client, acme):
    acme.task.assignee = acme.user
    acme.task.save()
    listing = client.get("/tasks").get_data(as_text=True)
    link = re.search(r'href="(/schedules/new\?[^"]+)"', listing).group(1).replace("&amp;", "&")
    response = client.get(link)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<!doctype html>" in html.lower()
    assert "Schedule Jordan Lee for Onsite" in html
    assert 'name="interviews-0-name" value="Onsite"' in html
    assert "Room 4A" in html and "Dana Wu" in html
    assert "Invite Jordan Lee (jordan@example.com)" in html
    assert "HX-Request" in response.headers["Vary"]


def test_schedule_form_for_htmx_is_only_the_form(client, acme):
    response = client.get(new_url(acme.task), headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith("<form") and "<body" not in html


def test_scheduling_books_calendar_events_and_attendees_and_completes_the_task_with_who_did_it(client, acme):
    response = book(client, acme, slot_fields(0, interviewers=[acme.dana, acme.sam], room=acme.room_4a))
    assert response.status_code == 303
    assert urlsplit(response.headers["Location"]).path == "/tasks"  # back on the list

    schedule = Schedule.get()
    assert schedule.created_by_id == acme.user.id and schedule.status == "scheduled"
    booked = ScheduledInterview.get(ScheduledInterview.schedule == schedule)
    assert booked.room_name == "Room 4A" and booked.calendar_event_id
    kinds = sorted((a.kind, a.email) for a in Attendee.select().where(Attendee.scheduled_interview == booked))
    assert kinds == [
        ("candidate", "jordan@example.com"),
        ("interviewer", "dana.wu@acme.test"),
        ("interviewer", "sam.lee@acme.test"),
        ("room", "room-4a@resource.acme.test"),
    ]
    event, status = memory_calendar(acme.account.id).events[booked.calendar_event_id]
    assert status == "confirmed" and event.organizer == acme.user.email
    assert {i.email for i in event.invitees} == {e for _, e in kinds}

    drain()
    task = Task.get_by_id(acme.task.id)
    assert task.status == "completed"
    assert task.completion_reason == "Casey Coordinator scheduled Jordan Lee for the onsite"
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Completed automatically: Casey Coordinator scheduled Jordan Lee for the onsite" in page


def test_scheduling_with_htmx_sends_the_browser_on_with_hx_redirect(client, acme):
    response = client.post(
        new_url(acme.task), data=schedule_form(acme.csrf, slot_fields(0, interviewers=[acme.dana])), headers=HTMX
    )
    assert response.status_code == 204
    assert urlsplit(response.headers["HX-Redirect"]).path == "/tasks"
    assert Schedule.select().count() == 1


def test_scheduling_without_the_csrf_token_is_refused(client, acme):
    data = schedule_form("nope", slot_fields(0, interviewers=[acme.dana]))
    assert client.post(new_url(), data=data).status_code == 400
    assert Schedule.select().count() == 0


@pytest.mark.parametrize(
    "slots, field, message",
    [
        (
            [slot_fields(0, start=(11, 0), end=(10, 0), interviewers=["dana"])],
            "interviews-0-ends_at",
            "The end must be after the start.",
        ),
        ([slot_fields(0, interviewers=[])], "interviews-0-interviewers", "Choose at least one interviewer."),
        (
            [slot_fields(0, start=None, interviewers=["dana"])],
            "interviews-0-starts_at",
            "Enter when the interview starts.",
        ),
        (
            [
                slot_fields(0, name="Coding", interviewers=["dana"], room="4a"),
                slot_fields(1, name="Design", start=(10, 30), end=(11, 30), interviewers=["sam"], room="4a"),
            ],
            "interviews-1-room",
            "Room 4A is booked twice: interview 1 is in it at that time.",
        ),
    ],
    ids=["end-before-start", "no-interviewer", "no-start", "room-booked-twice"],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["form", "htmx"])
def test_validation_errors_show_beside_the_field_and_save_nothing(client, acme, slots, field, message, headers):
    people = {"dana": acme.dana, "sam": acme.sam}
    rooms = {"4a": acme.room_4a}
    slots = copy.deepcopy(slots)
    for slot in slots:
        for key in list(slot):
            if key.endswith("interviewers"):
                slot[key] = [str(people[p].id) for p in slot[key]]
            if key.endswith("room") and slot[key]:
                slot[key] = str(rooms[slot[key]].id)
    response = client.post(new_url(acme.task), data=schedule_form(acme.csrf, *slots), headers=headers)
    html = response.get_data(as_text=True)
    # A plain post is told it was unprocessable; htmx swaps the form back in (a 200).
    assert response.status_code == (200 if headers else 422)
    assert f'<p class="field-error" id="{field}-error">{message}</p>' in html
    assert f'aria-describedby="{field}-error"' in html
    assert ("<body" in html) == (not headers)
    assert Schedule.select().count() == 0
    drain()
    assert Task.get_by_id(acme.task.id).status == "open"


def _book_dana_elsewhere(acme):
    """Dana and Room 4A are already in another candidate's interview, 10:00–11:00."""
    from webapp import scheduling
    from webapp.models import Application, Stage

    process(
        acme,
        ev.stage_changed(
            application={"id": "app-2"}, candidate={**ev.CANDIDATE, "id": "cand-2", "name": "Maria Garcia"}
        ),
    )
    form = MultiDict(schedule_form("", slot_fields(0, interviewers=[acme.dana], room=acme.room_4a)))
    slots = scheduling.slots_from_form(form)
    plan = scheduling.check(acme.account, slots)
    return scheduling.create_schedule(
        acme.account,
        acme.user,
        Application.get(Application.external_id == "app-2"),
        Stage.get(Stage.external_id == "stage-onsite"),
        plan.slots,
    )


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "plain"])
def test_conflict_check_warns_when_an_interviewer_or_room_is_already_booked(client, acme, headers):
    _book_dana_elsewhere(acme)
    data = schedule_form(
        acme.csrf, slot_fields(0, start=(10, 30), end=(11, 30), interviewers=[acme.dana], room=acme.room_4a)
    )
    response = client.post("/schedules/check", data=data, headers=headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Already booked at that time" in html
    assert "Dana Wu is already booked" in html and "Onsite with Maria Garcia" in html
    assert "Room 4A is already booked" in html
    assert ("<body" in html) == (not headers)


def test_conflict_check_is_quiet_when_nobody_is_booked_twice(client, acme):
    _book_dana_elsewhere(acme)
    data = schedule_form(
        acme.csrf, slot_fields(0, start=(11, 0), end=(12, 0), interviewers=[acme.dana], room=acme.room_4a)
    )
    html = client.post("/schedules/check", data=data, headers=HTMX).get_data(as_text=True)
    assert 'id="conflicts"' in html and "Already booked" not in html


def test_saving_over_a_conflict_asks_first_and_books_when_confirmed(client, acme):
    _book_dana_elsewhere(acme)
    slot = slot_fields(0, interviewers=[acme.dana])
    response = book(client, acme, slot)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Dana Wu is already booked" in html and "Book anyway" in html
    assert Schedule.select().count() == 1

    assert book(client, acme, slot, action="confirm").status_code == 303
    assert Schedule.select().count() == 2


def test_add_interview_button_adds_a_row_and_saves_nothing(client, acme):
    response = book(client, acme, slot_fields(0, interviewers=[acme.dana]), action="add")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="interview_count" value="2"' in html and "Interview 2" in html
    assert Schedule.select().count() == 0


def test_a_form_sent_back_with_an_error_keeps_every_interview_as_it_was_filled_in(client, acme):
    response = book(
        client,
        acme,
        slot_fields(0, name="Coding", interviewers=[acme.sam], room=acme.room_5b, invite=False),
        slot_fields(1, name="", start=(11, 0), end=(12, 0), interviewers=[acme.dana]),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="field-error" id="interviews-1-name-error">Name the interview.</p>' in html
    first, second = html.split("<legend>Interview 2</legend>")
    assert 'name="interviews-0-name" value="Coding"' in first
    assert f'name="interviews-0-starts_at"\n               value="{local(10, 0)}"' in first
    assert re.search(rf'<option value="{acme.sam.id}" selected>Sam Lee', first)
    assert re.search(rf'<option value="{acme.room_5b.id}" selected>Room 5B', first)
    assert 'name="interviews-0-invite_candidate" value="1">' in first
    assert 'name="interviews-1-invite_candidate" value="1" checked>' in second
    assert re.search(rf'<option value="{acme.dana.id}" selected>Dana Wu', second)
    assert Schedule.select().count() == 0


def test_a_remove_button_removes_its_row_and_keeps_the_others(client, acme):
    response = book(
        client,
        acme,
        slot_fields(0, name="Coding", interviewers=[acme.dana]),
        slot_fields(1, name="Design", start=(11, 0), end=(12, 0), interviewers=[acme.sam]),
        action="remove-0",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "field-error" not in html
    assert 'name="interview_count" value="1"' in html
    assert 'name="interviews-0-name" value="Design"' in html and "Coding" not in html
    assert Schedule.select().count() == 0


def _scheduled(client, acme, **kw):
    book(client, acme, slot_fields(0, interviewers=[acme.dana], room=acme.room_4a, **kw))
    drain()
    return Schedule.get()


def _declined(acme, schedule, attendee):
    process(acme, ev.responded(attendee, "declined", schedule={"id": schedule.external_id}))
    return Task.get(Task.status == "open", Task.rule_id.endswith("_declined"))


def action_url(app, account, task):
    with app.test_request_context():
        return links.action_urls(account.id, [task]).get(task.id)


def test_declined_task_links_to_the_edit_form_of_its_schedule(app, client, acme):
    schedule = _scheduled(client, acme)
    task = _declined(acme, schedule, ev.INTERVIEWER)
    url = action_url(app, acme.account, task)
    assert url == f"/schedules/{schedule.external_id}/edit?task={task.id}"
    response = client.get(url)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Edit the schedule for Onsite" in html and "Cancel the schedule" in html
    assert re.search(rf'<option value="{acme.dana.id}" selected>Dana Wu', html)
    assert client.get(url, headers=HTMX).get_data(as_text=True).lstrip().startswith("<form")


def test_declined_interviewer_task_completes_when_the_interviewer_is_swapped(client, acme):
    schedule = _scheduled(client, acme)
    task = _declined(acme, schedule, ev.INTERVIEWER)
    old_event = ScheduledInterview.get().calendar_event_id
    response = client.post(
        f"/schedules/{schedule.external_id}/edit?task={task.id}",
        data=schedule_form(acme.csrf, slot_fields(0, interviewers=[acme.sam], room=acme.room_4a)),
    )
    assert response.status_code == 303
    booked = ScheduledInterview.get()
    assert booked.calendar_event_id == old_event  # the same calendar event, updated
    emails = {a.email for a in booked.attendees}
    assert "sam.lee@acme.test" in emails and "dana.wu@acme.test" not in emails
    calendar_event, _ = memory_calendar(acme.account.id).events[old_event]
    assert "sam.lee@acme.test" in {i.email for i in calendar_event.invitees}

    drain()
    task = Task.get_by_id(task.id)
    assert task.status == "completed"
    assert task.completion_reason == "Casey Coordinator swapped interviewers in the onsite"
    from webapp.models import Event

    payload = Event.select().where(Event.type == "schedule.updated").get().payload
    assert payload["data"]["actor"]["email"] == acme.user.email
    assert {
        "interview": "Onsite",
        "change": "interviewers",
        "removed": ["dana.wu@acme.test"],
        "added": ["sam.lee@acme.test"],
    } in payload["data"]["changes"]["interviews"]


def test_room_declined_task_completes_when_the_room_is_switched(client, acme):
    schedule = _scheduled(client, acme)
    task = _declined(acme, schedule, ev.ROOM)
    client.post(
        f"/schedules/{schedule.external_id}/edit",
        data=schedule_form(acme.csrf, slot_fields(0, interviewers=[acme.dana], room=acme.room_5b)),
        headers=HTMX,
    )
    assert ScheduledInterview.get().room_name == "Room 5B"
    drain()
    assert Task.get_by_id(task.id).completion_reason == "Casey Coordinator switched the room of the onsite"


def test_candidate_declined_task_completes_when_the_time_moves(client, acme):
    schedule = _scheduled(client, acme)
    task = _declined(acme, schedule, ev.CANDIDATE_ATTENDEE)
    client.post(
        f"/schedules/{schedule.external_id}/edit",
        data=schedule_form(
            acme.csrf, slot_fields(0, start=(14, 0), end=(15, 0), interviewers=[acme.dana], room=acme.room_4a)
        ),
    )
    assert ScheduledInterview.get().starts_at.hour == 14
    drain()
    assert Task.get_by_id(task.id).completion_reason == "Casey Coordinator rescheduled the onsite"


def test_switching_the_room_leaves_the_candidates_and_the_interviewers_declines_open(client, acme):
    schedule = _scheduled(client, acme)
    candidate_task = _declined(acme, schedule, ev.CANDIDATE_ATTENDEE)
    process(acme, ev.responded(ev.INTERVIEWER, "declined", schedule={"id": schedule.external_id}))
    client.post(
        f"/schedules/{schedule.external_id}/edit",
        data=schedule_form(acme.csrf, slot_fields(0, interviewers=[acme.dana], room=acme.room_5b)),
    )
    drain()
    open_rules = sorted(t.rule_id for t in Task.select().where(Task.status == "open"))
    assert open_rules == ["candidate_declined", "interviewer_declined"]
    assert Task.get_by_id(candidate_task.id).status == "open"


def test_moving_an_interview_asks_its_attendees_again(client, acme):
    schedule = _scheduled(client, acme)
    Attendee.update(response="declined").execute()
    client.post(
        f"/schedules/{schedule.external_id}/edit",
        data=schedule_form(
            acme.csrf, slot_fields(0, start=(14, 0), end=(15, 0), interviewers=[acme.dana], room=acme.room_4a)
        ),
    )
    assert {a.response for a in Attendee.select()} == {"needs_action"}


def test_editing_does_not_warn_about_the_schedule_itself(client, acme):
    schedule = _scheduled(client, acme)
    response = client.post(
        f"/schedules/{schedule.external_id}/edit",
        data=schedule_form(
            acme.csrf, slot_fields(0, start=(10, 30), end=(11, 30), interviewers=[acme.dana], room=acme.room_4a)
        ),
    )
    assert response.status_code == 303


def test_cancelling_cancels_calendar_events_and_opens_schedule_cancelled(app, client, acme):
    schedule = _scheduled(client, acme)
    declined = _declined(acme, schedule, ev.CANDIDATE_ATTENDEE)
    event_id = ScheduledInterview.get().calendar_event_id
    response = client.post(
        f"/schedules/{schedule.external_id}/cancel?task={declined.id}", data={"csrf_token": acme.csrf}
    )
    assert response.status_code == 303
    assert memory_calendar(acme.account.id).events[event_id][1] == "cancelled"
    assert Schedule.get_by_id(schedule.id).status == "cancelled"
    drain()
    assert Task.get_by_id(declined.id).completion_reason == "Casey Coordinator cancelled the onsite"
    cancelled = Task.get(Task.rule_id == "schedule_cancelled")
    assert cancelled.status == "open"
    # Its link is the schedule form again; scheduling completes it.
    url = action_url(app, acme.account, cancelled)
    assert url == f"/schedules/new?application=app-1&stage=stage-onsite&task={cancelled.id}"
    client.post(url, data=schedule_form(acme.csrf, slot_fields(0, interviewers=[acme.dana])))
    drain()
    assert Task.get_by_id(cancelled.id).completion_reason == "Casey Coordinator scheduled Jordan Lee for the onsite"


def test_cancelling_with_htmx_redirects_and_twice_changes_nothing(client, acme):
    schedule = _scheduled(client, acme)
    url = f"/schedules/{schedule.external_id}/cancel"
    response = client.post(url, data={"csrf_token": acme.csrf}, headers=HTMX)
    # Not from a task: on to the candidate's schedules.
    assert response.status_code == 204 and response.headers["HX-Redirect"].endswith("/schedules/candidate/cand-1")
    client.post(url, data={"csrf_token": acme.csrf})
    from webapp.models import Event

    assert Event.select().where(Event.type == "schedule.cancelled").count() == 1


def test_a_cancelled_schedule_cannot_be_edited(client, acme):
    schedule = _scheduled(client, acme)
    client.post(f"/schedules/{schedule.external_id}/cancel", data={"csrf_token": acme.csrf})
    response = client.post(
        f"/schedules/{schedule.external_id}/edit",
        data=schedule_form(acme.csrf, slot_fields(0, interviewers=[acme.sam])),
    )
    assert response.status_code == 409
    assert "Cancelled schedule" in response.get_data(as_text=True)


def test_another_accounts_records_are_not_found(client, acme, make_account):
    schedule = _scheduled(client, acme)
    other = make_account("Globex")
    client.post("/logout", data={"csrf_token": acme.csrf})
    csrf = sign_in(client, other.user.email)
    assert client.get(new_url()).status_code == 404
    assert client.get(f"/schedules/{schedule.external_id}/edit").status_code == 404
    assert client.post(f"/schedules/{schedule.external_id}/cancel", data={"csrf_token": csrf}).status_code == 404
    assert Schedule.get_by_id(schedule.id).status == "scheduled"


def test_a_posted_interview_of_another_account_is_not_linked(client, acme, make_account):
    from webapp.models import Interview

    other = make_account("Globex")
    theirs = Interview.create(account=other.account, external_id="int-globex", name="Their secret loop")
    fields = slot_fields(0, interviewers=[acme.dana])
    fields["interviews-0-interview"] = str(theirs.id)
    assert book(client, acme, fields).status_code == 303
    assert ScheduledInterview.get().interview_id is None


@pytest.mark.parametrize("path", ["/schedules/new?application=app-1&stage=stage-onsite", "/schedules/x/edit"])
def test_scheduling_pages_need_signing_in(app, path):
    response = app.test_client().get(path)
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_calendar_refusal_saves_nothing_and_says_why(client, acme, monkeypatch):
    from webapp.calendars import CalendarError, MemoryCalendar

    def refuse(self, event):
        raise CalendarError("the calendar is read-only", code="forbidden")

    monkeypatch.setattr(MemoryCalendar, "create_event", refuse)
    response = book(client, acme, slot_fields(0, interviewers=[acme.dana]))
    assert response.status_code == 502
    assert "the calendar is read-only" in response.get_data(as_text=True)
    assert Schedule.select().count() == 0
