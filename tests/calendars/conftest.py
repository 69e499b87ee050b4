"""Helpers for the calendar tests: a schedule with its attendees, Google behind HttpMockSequence
(the bundled discovery document, real google-auth signing with a throwaway key), Microsoft Graph
behind a fake transport and msal behind a fake http_client. Only the vendors' HTTP is faked."""

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from googleapiclient.http import HttpMockSequence

from webapp.models import (
    Application,
    Attendee,
    CalendarWatch,
    Candidate,
    Integration,
    Job,
    Schedule,
    ScheduledInterview,
    Stage,
    Task,
    User,
    utcnow,
)

PAYLOADS = Path(__file__).parent / "payloads"
ORGANIZER = "olivia.organizer@acme.test"
INTERVIEWER = "ian.interviewer@acme.test"
ROOM = "c_1888hopper8@resource.calendar.google.com"
CANDIDATE = "ada@example.com"
EVENT_ID = "7cbh8rpc10lrc0ckih9tafss99"
TOKEN_RESPONSE = (
    {"status": "200"},
    json.dumps({"access_token": "ya29.test-token", "expires_in": 3599, "token_type": "Bearer"}),
)


def payload(name):
    return json.loads((PAYLOADS / name).read_text())


def raw(name):
    return (PAYLOADS / name).read_text()


@pytest.fixture(scope="session")
def private_key_pem():
    """A throwaway RSA key, so google-auth signs its JWT grant for real."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def service_account_info(private_key_pem):
    return {
        "type": "service_account",
        "project_id": "docket-test",
        "private_key_id": "0123456789abcdef",
        "private_key": private_key_pem,
        "client_email": "docket@docket-test.iam.gserviceaccount.com",
        "client_id": "111111111111111111111",
        "token_uri": "https://oauth2.googleapis.com/token",
    }


@pytest.fixture
def connect_google(service_account_info):
    def connect(handle):
        return Integration.create(
            account=handle.account,
            provider="google",
            kind="calendar",
            credentials={"type": "service_account", "service_account": service_account_info, "domain": "acme.test"},
            owner_email=handle.user.email,
        )

    return connect


class GoogleHttp(HttpMockSequence):
    """HttpMockSequence that also remembers what was asked, for assertions."""

    def __init__(self, responses):
        super().__init__(responses)
        self.requests = []
        self.sleeps = []

    def request(self, uri, method="GET", body=None, headers=None, redirections=1, connection_type=None):
        self.requests.append((method, uri, body))
        return super().request(uri, method, body, headers, redirections, connection_type)

    def api_requests(self):
        return [(m, u, b) for m, u, b in self.requests if "oauth2.googleapis.com" not in u]


@pytest.fixture
def google_http(app):
    """google_http(*responses) -> GoogleHttp serving them in order to every Google client."""

    def serve(*responses):
        http = GoogleHttp(list(responses))
        app.config["GOOGLE_HTTP"] = lambda: http
        app.config["GOOGLE_SLEEP"] = http.sleeps.append
        return http

    return serve


def events_list(
    answers=None, sync_token="CPDAlvWDx70CEPDAlvWDx70CGAU=", updated="2026-11-28T10:05:00.000Z", status=None
):
    """Google's events.list page from the documented example, with some attendees' answers changed."""
    page = copy.deepcopy(payload("google/events_list.json"))
    page["nextSyncToken"] = sync_token
    item = page["items"][0]
    item["updated"] = updated
    if status:
        item["status"] = status
    for attendee in item["attendees"]:
        if attendee["email"] in (answers or {}):
            attendee["responseStatus"] = answers[attendee["email"]]
    return ({"status": "200"}, json.dumps(page))


def error(status, name):
    return ({"status": str(status)}, raw(name))


@pytest.fixture
def make_schedule():
    """make_schedule(handle, event_id=EVENT_ID, organizer=ORGANIZER) -> Schedule with an interviewer,
    a room and the candidate invited to one interview."""

    def make(handle, event_id=EVENT_ID, organizer=ORGANIZER, external_id="sch-1", attendees=None):
        account = handle.account
        job = Job.create(account=account, external_id="job-1", name="Staff Engineer")
        stage = Stage.create(account=account, job=job, external_id="stage-1", name="Onsite", scheduling_enabled=True)
        candidate = Candidate.create(
            account=account, external_id="cand-1", name="Ada Lovelace", email=CANDIDATE, coordinator=handle.user
        )
        application = Application.create(
            account=account, external_id="app-1", candidate=candidate, job=job, stage=stage
        )
        schedule = Schedule.create(
            account=account,
            external_id=external_id,
            application=application,
            stage=stage,
            organizer=User.for_email(account, organizer, "Olivia Organizer"),
        )
        now = utcnow()
        interview = ScheduledInterview.create(
            account=account,
            schedule=schedule,
            name="System design",
            starts_at=now + dt.timedelta(days=3),
            ends_at=now + dt.timedelta(days=3, hours=1),
            room_name="Room Hopper (8)",
            room_email=ROOM,
            calendar_event_id=event_id,
        )
        for email, name, kind in attendees or (
            (INTERVIEWER, "Ian Interviewer", "interviewer"),
            (ROOM, "Room Hopper (8)", "room"),
            (CANDIDATE, "Ada Lovelace", "candidate"),
        ):
            Attendee.create(account=account, scheduled_interview=interview, email=email, name=name, kind=kind)
        return schedule

    return make


@pytest.fixture
def make_watch():
    def make(
        integration, calendar=ORGANIZER, channel_id="docket-channel-1", cursor="CPDAlvWDx70CEPDAlvWDx70CGAU=", **fields
    ):
        fields.setdefault("expires_at", utcnow() + dt.timedelta(days=2))
        fields.setdefault("last_synced_at", utcnow())
        return CalendarWatch.create(
            account=integration.account_id,
            integration=integration,
            calendar=calendar,
            channel_id=channel_id,
            resource_id="o3hgv1538sdjfh",
            cursor=cursor,
            **fields,
        )

    return make


@pytest.fixture
def drain(app):
    from webapp.pipeline import drain as drain_inbox

    return drain_inbox


def open_tasks(account, category=None):
    query = Task.select().where(Task.account == account, Task.status == Task.OPEN)
    if category:
        query = query.where(Task.category == category)
    return list(query)


def response_of(email):
    return Attendee.get(Attendee.email == email).response
