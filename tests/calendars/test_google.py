"""Google Calendar: events on the organizer's calendar, push channels with a checked token,
incremental syncs, and answers to invites becoming tasks. Google is faked at its HTTP only."""

import datetime as dt
import json
import urllib.parse

import pytest

from webapp.calendars import CalendarEvent, Invitee, calendar_for
from webapp.calendars.sync import maintain, sync_watch
from webapp.models import Attendee, CalendarWatch, Event, Integration, Schedule, Task, utcnow

from .conftest import (
    CANDIDATE,
    INTERVIEWER,
    ORGANIZER,
    ROOM,
    TOKEN_RESPONSE,
    error,
    events_list,
    open_tasks,
    payload,
    response_of,
)


def notify(client, account, watch, token=None, state="exists", channel_id=None):
    """POST a push notification as Google sends it: headers only, an empty body."""
    return client.post(
        f"/webhooks/google/{account.webhook_key}",
        data=b"",
        headers={
            "X-Goog-Channel-ID": channel_id or watch.channel_id,
            "X-Goog-Channel-Token": watch.channel_token if token is None else token,
            "X-Goog-Channel-Expiration": "Tue, 19 Nov 2026 01:13:52 GMT",
            "X-Goog-Resource-ID": "o3hgv1538sdjfh",
            "X-Goog-Resource-URI": f"https://www.googleapis.com/calendar/v3/calendars/{ORGANIZER}/events?alt=json",
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": "10",
        },
    )


@pytest.fixture
def acme(make_account, connect_google, make_schedule, make_watch):
    handle = make_account("Acme")
    handle.integration = connect_google(handle)
    handle.schedule = make_schedule(handle)
    handle.watch = make_watch(handle.integration)
    return handle


@pytest.mark.parametrize(
    "email, category",
    [
        (INTERVIEWER, "Interviewer Declined"),
        (ROOM, "Room Declined"),
        (CANDIDATE, "Candidate Declined"),
    ],
)
def test_a_decline_notified_by_google_raises_its_category(acme, client, google_http, drain, email, category):
    response = notify(client, acme.account, acme.watch)
    assert response.status_code == 200
    assert CalendarWatch.get_by_id(acme.watch.id).sync_requested_at is not None

    http = google_http(TOKEN_RESPONSE, events_list({email: "declined"}, sync_token="next-token"))
    summary = sync_watch(acme.watch.id)
    drain()

    assert summary["events"] == ["attendee.responded"]
    assert response_of(email) == "declined"
    (task,) = open_tasks(acme.account)
    assert task.category == category
    # The schedule, with when its first interview starts (what the decline's due time counts from).
    first_start = min(si.starts_at for si in Schedule.get(Schedule.external_id == "sch-1").interviews)
    assert task.subjects["schedule"] == {"id": "sch-1", "starts_at": first_start.isoformat()}
    assert task.subjects["attendee"]["email"] == email
    # Incremental: the stored sync token was sent, the new one kept.
    method, uri, _ = http.api_requests()[0]
    query = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)
    assert method == "GET" and query["syncToken"] == ["CPDAlvWDx70CEPDAlvWDx70CGAU="]
    assert CalendarWatch.get_by_id(acme.watch.id).cursor == "next-token"


def test_an_unchanged_answer_raises_nothing_again(acme, google_http, drain):
    google_http(TOKEN_RESPONSE, events_list({INTERVIEWER: "declined"}))
    sync_watch(acme.watch.id)
    google_http(TOKEN_RESPONSE, events_list({INTERVIEWER: "declined"}, updated="2026-11-28T11:00:00.000Z"))
    summary = sync_watch(acme.watch.id)
    drain()
    assert summary["events"] == []
    assert Event.select().where(Event.source == "google").count() == 1
    assert len(open_tasks(acme.account)) == 1


def test_interviewer_who_accepts_after_declining_completes_the_task(acme, google_http, drain):
    google_http(TOKEN_RESPONSE, events_list({INTERVIEWER: "declined"}, updated="2026-11-28T10:05:00.000Z"))
    sync_watch(acme.watch.id)
    drain()
    assert [t.category for t in open_tasks(acme.account)] == ["Interviewer Declined"]

    google_http(TOKEN_RESPONSE, events_list({INTERVIEWER: "accepted"}, updated="2026-11-28T12:00:00.000Z"))
    sync_watch(acme.watch.id)
    drain()
    assert open_tasks(acme.account) == []
    task = Task.get(Task.category == "Interviewer Declined")
    assert task.status == Task.COMPLETED
    assert "accepted after all" in task.completion_reason
    assert response_of(INTERVIEWER) == "accepted"


def test_expired_sync_token_410_means_a_full_resync(acme, google_http, drain):
    http = google_http(
        TOKEN_RESPONSE,
        error(410, "google/full_sync_required.json"),
        TOKEN_RESPONSE,
        events_list({ROOM: "declined"}, sync_token="fresh-token"),
    )
    summary = sync_watch(acme.watch.id)
    drain()
    assert summary["status"] == "ok"
    first, second = http.api_requests()
    assert "syncToken=" in first[1]
    full = urllib.parse.parse_qs(urllib.parse.urlparse(second[1]).query)
    assert "syncToken" not in full and "timeMin" in full
    assert CalendarWatch.get_by_id(acme.watch.id).cursor == "fresh-token"
    assert [t.category for t in open_tasks(acme.account)] == ["Room Declined"]


@pytest.mark.parametrize(
    "headers",
    [
        {"token": "not-the-channel-token"},
        {"token": ""},
        {"channel_id": "someone-elses-channel"},
    ],
)
def test_a_notification_with_a_wrong_channel_or_token_is_rejected_and_nothing_stored(acme, client, headers):
    CalendarWatch.update(sync_requested_at=None).execute()
    response = notify(client, acme.account, acme.watch, **headers)
    assert response.status_code == 401
    assert CalendarWatch.get_by_id(acme.watch.id).sync_requested_at is None
    assert Event.select().count() == 0


def test_the_sync_message_of_a_new_channel_is_acknowledged_without_a_sync(acme, client):
    CalendarWatch.update(sync_requested_at=None).execute()
    response = notify(client, acme.account, acme.watch, state="sync")
    assert response.status_code == 200
    assert CalendarWatch.get_by_id(acme.watch.id).sync_requested_at is None


def test_an_expired_channel_is_replaced_and_what_changed_meanwhile_is_caught(acme, client, google_http, drain):
    CalendarWatch.update(expires_at=utcnow() - dt.timedelta(hours=2)).execute()
    old = CalendarWatch.get_by_id(acme.watch.id)
    http = google_http(
        TOKEN_RESPONSE,
        ({"status": "200"}, json.dumps(dict(payload("google/watch.json"), expiration="4102444800000"))),
        TOKEN_RESPONSE,
        ({"status": "404"}, json.dumps({"error": {"code": 404, "message": "Channel 'docket-channel-1' not found"}})),
        TOKEN_RESPONSE,
        events_list({CANDIDATE: "declined"}),
    )
    summary = maintain(acme.integration.id)
    drain()
    assert summary["renewed"] == [ORGANIZER] and summary["synced"] == [ORGANIZER]
    watch_call, stop_call, _ = http.api_requests()
    assert watch_call[1].endswith(f"/calendars/{urllib.parse.quote(ORGANIZER)}/events/watch?alt=json")
    body = json.loads(watch_call[2])
    assert body["type"] == "web_hook" and body["token"] == old.channel_token
    assert body["address"].endswith(f"/webhooks/google/{acme.account.webhook_key}")
    assert json.loads(stop_call[2]) == {"id": "docket-channel-1", "resourceId": "o3hgv1538sdjfh"}
    renewed = CalendarWatch.get_by_id(acme.watch.id)
    assert renewed.channel_id == "01234567-89ab-cdef-0123456789ab"
    assert renewed.expires_at == dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    assert [t.category for t in open_tasks(acme.account)] == ["Candidate Declined"]
    # The old channel is no longer Docket's.
    assert notify(client, acme.account, old).status_code == 401


def test_a_dropped_notification_is_caught_by_reconciliation_within_15_minutes(acme, google_http, drain):
    from webapp.calendars.sync import (
        DEFAULT_MAINTENANCE_SECONDS,
        DEFAULT_RECONCILE_SECONDS,
        MAINTAIN_JOB,
        enqueue_due_calendar_work,
    )
    from webapp.queue import get_queue

    # The worst case: a calendar waits the reconcile age, then up to one maintenance interval.
    assert DEFAULT_RECONCILE_SECONDS + DEFAULT_MAINTENANCE_SECONDS <= 15 * 60
    now = utcnow()
    CalendarWatch.update(last_synced_at=now - dt.timedelta(minutes=9)).execute()
    http = google_http()
    summary = maintain(acme.integration.id, now=now)
    assert summary["synced"] == [] and http.api_requests() == []  # synced lately: nothing to ask

    # The candidate declines, and Google's notification never arrives. The sweeper's round at the
    # next maintenance time queues maintenance, which syncs the calendar and finds the answer.
    later = now + dt.timedelta(seconds=DEFAULT_MAINTENANCE_SECONDS)
    assert enqueue_due_calendar_work(now=later - dt.timedelta(seconds=1)) == ([], [])
    assert enqueue_due_calendar_work(now=later) == ([acme.integration.id], [])
    assert [(j.func_name, j.args) for j in get_queue().jobs] == [(MAINTAIN_JOB, (acme.integration.id,))]
    google_http(TOKEN_RESPONSE, events_list({CANDIDATE: "declined"}))
    summary = maintain(acme.integration.id, now=later)
    drain()
    assert summary["synced"] == [ORGANIZER]
    assert [t.category for t in open_tasks(acme.account)] == ["Candidate Declined"]


def test_a_calendar_without_upcoming_interviews_has_its_channel_stopped(
    make_account, connect_google, make_watch, google_http
):
    handle = make_account("Acme")
    integration = connect_google(handle)
    make_watch(integration)
    http = google_http(TOKEN_RESPONSE, ({"status": "204"}, ""))
    summary = maintain(integration.id)
    assert summary["stopped"] == [ORGANIZER]
    ((method, uri, body),) = http.api_requests()
    assert uri.startswith("https://www.googleapis.com/calendar/v3/channels/stop")
    assert CalendarWatch.select().count() == 0


def test_schedules_events_go_on_the_organizers_calendar_with_interviewers_room_and_candidate(
    make_account, connect_google, google_http
):
    handle = make_account("Acme")
    integration = connect_google(handle)
    created = dict(payload("google/events_list.json")["items"][0], id="newevent123")
    http = google_http(TOKEN_RESPONSE, ({"status": "200"}, json.dumps(created)))
    port = calendar_for(handle.account)
    start = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)
    event = CalendarEvent(
        organizer=ORGANIZER,
        title="Ada Lovelace: System design",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        invitees=(
            Invitee(INTERVIEWER, "Ian Interviewer", "interviewer"),
            Invitee(ROOM, "Room Hopper (8)", "room"),
            Invitee(CANDIDATE, "Ada Lovelace", "candidate"),
        ),
        location="Room Hopper (8)",
        schedule_id="sch-1",
        scheduled_interview_id="1",
    )
    assert port.create_event(event) == "newevent123"
    token_call, (method, uri, body) = http.requests
    assert token_call[1] == "https://oauth2.googleapis.com/token"
    assert (
        method == "POST" and f"/calendars/{urllib.parse.quote(ORGANIZER)}/events?" in uri and "sendUpdates=all" in uri
    )
    sent = json.loads(body)
    assert sent["attendees"] == [
        {"email": INTERVIEWER, "displayName": "Ian Interviewer"},
        {"email": ROOM, "displayName": "Room Hopper (8)", "resource": True},
        {"email": CANDIDATE, "displayName": "Ada Lovelace"},
    ]
    assert sent["start"] == {"dateTime": "2026-12-01T10:00:00+00:00", "timeZone": "UTC"}
    # The organizer's calendar is watched at the next maintenance.
    assert Integration.get_by_id(integration.id).next_sync_at is not None

    http = google_http(TOKEN_RESPONSE, ({"status": "200"}, json.dumps(created)))
    port.update_event("newevent123", event)
    assert http.api_requests()[0][0] == "PATCH"
    http = google_http(TOKEN_RESPONSE, ({"status": "204"}, ""))
    port.cancel_event("newevent123", ORGANIZER)
    method, uri, _ = http.api_requests()[0]
    assert method == "DELETE" and uri.split("?")[0].endswith("/events/newevent123")


def test_a_new_schedule_gets_its_organizers_calendar_watched_and_baselined(
    make_account, connect_google, make_schedule, google_http, drain
):
    handle = make_account("Acme")
    integration = connect_google(handle)
    make_schedule(handle)
    http = google_http(
        TOKEN_RESPONSE,
        ({"status": "200"}, raw_watch := json.dumps(dict(payload("google/watch.json"), expiration="4102444800000"))),
        TOKEN_RESPONSE,
        events_list({INTERVIEWER: "declined"}),
    )
    assert raw_watch
    summary = maintain(integration.id)
    drain()
    assert summary["opened"] == [ORGANIZER] and summary["synced"] == [ORGANIZER]
    watch = CalendarWatch.get(CalendarWatch.calendar == ORGANIZER)
    assert json.loads(http.api_requests()[0][2])["token"] == watch.channel_token
    assert watch.cursor == "CPDAlvWDx70CEPDAlvWDx70CGAU="
    assert [t.category for t in open_tasks(handle.account)] == ["Interviewer Declined"]
    assert Attendee.get(Attendee.email == INTERVIEWER).response == "declined"
