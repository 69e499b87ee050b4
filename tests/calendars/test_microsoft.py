"""Microsoft 365 through Graph: the validation handshake, notifications checked by clientState,
lifecycle notifications, delta queries on calendarView, and answers to invites becoming tasks.
msal runs for real behind a fake http_client; Graph is a fake transport serving documented bodies."""

import copy
import datetime as dt
import json
import urllib.parse

import pytest

from webapp.calendars import CalendarEvent, Invitee, calendar_for
from webapp.calendars.sync import maintain, sync_watch
from webapp.models import CalendarWatch, Event, Integration, Task, utcnow

from .conftest import CANDIDATE, INTERVIEWER, ORGANIZER, open_tasks, payload, raw, response_of

MS_ROOM = "room.hopper@acme.test"
TENANT = "6a0c9e1d-2f7b-4c4e-9f4a-6f1e2c3d4b5a"
SUBSCRIPTION = "7f105c7d-2dc5-4530-97cd-4e7ae6534c07"


class MsalResponse:
    """What msal reads from its http_client's answers (a requests.Response look-alike)."""

    def __init__(self, status_code, text):
        self.status_code = status_code
        self.text = text
        self.headers = {"Content-Type": "application/json"}

    def raise_for_status(self):
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}")


class FakeLogin:
    """login.microsoftonline.com: OpenID discovery and the token endpoint (client credentials)."""

    def __init__(self):
        self.token_answer = (200, raw("microsoft/token.json"))
        self.posts = []

    def get(self, url, params=None, headers=None, **kwargs):
        if url == "https://login.microsoftonline.com/common/discovery/instance":
            return MsalResponse(200, raw("microsoft/instance_discovery.json"))
        assert url.endswith("/v2.0/.well-known/openid-configuration"), url
        return MsalResponse(200, raw("microsoft/openid_configuration.json"))

    def post(self, url, params=None, data=None, headers=None, **kwargs):
        assert url.endswith("/oauth2/v2.0/token"), url
        self.posts.append(data)
        return MsalResponse(*self.token_answer)

    def close(self):
        pass


class FakeGraph:
    """Graph behind the client's transport: answers queued per (method, path), requests recorded."""

    def __init__(self):
        self.answers = {}
        self.requests = []
        self.sleeps = []

    def serve(self, method, path, status, body=None, headers=None):
        self.answers.setdefault((method, path), []).append((status, body, headers or {}))

    def __call__(self, method, url, headers, body):
        parsed = urllib.parse.urlparse(url)
        path = urllib.parse.unquote(parsed.path).removeprefix("/v1.0")
        self.requests.append((method, path, parsed.query, headers, json.loads(body) if body else None))
        queue = self.answers.get((method, path))
        assert queue, f"unexpected Graph call {method} {path}"
        status, answer, headers = queue.pop(0) if len(queue) > 1 else queue[0]
        content = b"" if answer is None else (answer if isinstance(answer, bytes) else json.dumps(answer).encode())
        return status, {"Content-Type": "application/json", **headers}, content


@pytest.fixture
def login(app):
    fake = FakeLogin()
    app.config["MSAL_HTTP_CLIENT"] = fake
    return fake


@pytest.fixture
def graph(app):
    fake = FakeGraph()
    app.config["GRAPH_TRANSPORT"] = fake
    app.config["GRAPH_SLEEP"] = fake.sleeps.append
    return fake


def delta(answers=None, modified="2026-11-28T10:05:00.0000000Z", link="R0usmcMDNGg0J1E"):
    page = copy.deepcopy(payload("microsoft/delta.json"))
    page["@odata.deltaLink"] = (
        f"https://graph.microsoft.com/v1.0/users/{ORGANIZER}/calendarView/delta?$deltatoken={link}"
    )
    event = page["value"][0]
    event["lastModifiedDateTime"] = modified
    for attendee in event["attendees"]:
        if attendee["emailAddress"]["address"] in (answers or {}):
            attendee["status"] = {"response": answers[attendee["emailAddress"]["address"]], "time": modified}
    return page


DELTA_PATH = f"/users/{ORGANIZER}/calendarView/delta"


@pytest.fixture
def contoso(make_account, make_schedule, make_watch, login, graph):
    handle = make_account("Acme")
    handle.integration = Integration.create(
        account=handle.account,
        provider="microsoft",
        kind="calendar",
        credentials={
            "tenant_id": TENANT,
            "client_id": "3f2c1a8e-5b7d-4e9f-8a6b-1c2d3e4f5a6b",
            "client_secret": "s3cr3t",
        },
        owner_email=handle.user.email,
    )
    handle.schedule = make_schedule(
        handle,
        event_id="AAMkADNkNmAA=",
        attendees=(
            (INTERVIEWER, "Ian Interviewer", "interviewer"),
            (MS_ROOM, "Room Hopper (8)", "room"),
            (CANDIDATE, "Ada Lovelace", "candidate"),
        ),
    )
    handle.watch = make_watch(
        handle.integration,
        channel_id=SUBSCRIPTION,
        cursor=f"https://graph.microsoft.com/v1.0/users/{ORGANIZER}/calendarView/delta?$deltatoken=previous",
    )
    return handle


def notification(watch, client_state=None, name="microsoft/notification.json"):
    body = copy.deepcopy(payload(name))
    for item in body["value"]:
        item["subscriptionId"] = watch.channel_id
        item["clientState"] = watch.channel_token if client_state is None else client_state
    return body


@pytest.mark.parametrize("path", ["", "/lifecycle"])
def test_the_validation_handshake_echoes_the_token_as_plain_text(contoso, client, path):
    token = "Validation: Testing client application reachability for subscription Request-Id: 9c2e1b3a"
    response = client.post(
        f"/webhooks/microsoft/{contoso.account.webhook_key}{path}?validationToken={urllib.parse.quote(token)}",
        data=b"",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == token


@pytest.mark.parametrize(
    "email, category",
    [(INTERVIEWER, "Interviewer Declined"), (MS_ROOM, "Room Declined"), (CANDIDATE, "Candidate Declined")],
)
def test_a_decline_notified_by_graph_raises_its_category(contoso, client, graph, login, drain, email, category):
    response = client.post(f"/webhooks/microsoft/{contoso.account.webhook_key}", json=notification(contoso.watch))
    assert response.status_code == 202
    assert CalendarWatch.get_by_id(contoso.watch.id).sync_requested_at is not None

    graph.serve("GET", DELTA_PATH, 200, delta({email: "declined"}, link="next"))
    summary = sync_watch(contoso.watch.id)
    drain()
    assert summary["events"] == ["attendee.responded"]
    assert response_of(email) == "declined"
    assert [t.category for t in open_tasks(contoso.account)] == [category]
    method, path, query, headers, _ = graph.requests[0]
    assert query == "$deltatoken=previous" and headers["Authorization"].startswith("Bearer eyJ0")
    assert CalendarWatch.get_by_id(contoso.watch.id).cursor.endswith("$deltatoken=next")


def test_tentative_and_accepted_are_mapped_and_an_accept_after_a_decline_completes_the_task(contoso, graph, drain):
    graph.serve("GET", DELTA_PATH, 200, delta({INTERVIEWER: "declined"}))
    sync_watch(contoso.watch.id)
    drain()
    graph.answers.clear()
    graph.serve(
        "GET",
        DELTA_PATH,
        200,
        delta({INTERVIEWER: "accepted", CANDIDATE: "tentativelyAccepted"}, modified="2026-11-28T12:00:00.0000000Z"),
    )
    sync_watch(contoso.watch.id)
    drain()
    assert response_of(INTERVIEWER) == "accepted" and response_of(CANDIDATE) == "tentative"
    assert open_tasks(contoso.account) == []
    assert Task.get(Task.category == "Interviewer Declined").status == Task.COMPLETED


def test_an_expired_delta_link_means_a_full_round(contoso, graph, drain):
    graph.serve("GET", DELTA_PATH, 410, json.loads(raw("microsoft/sync_state_not_found.json")))
    graph.serve("GET", DELTA_PATH, 200, delta({MS_ROOM: "declined"}, link="fresh"))
    sync_watch(contoso.watch.id)
    drain()
    first, second = graph.requests
    assert first[2] == "$deltatoken=previous"
    assert "startDateTime" in urllib.parse.parse_qs(second[2])
    assert [t.category for t in open_tasks(contoso.account)] == ["Room Declined"]


@pytest.mark.parametrize("url_suffix", ["", "/lifecycle"])
def test_a_wrong_client_state_is_acknowledged_and_dropped(contoso, client, url_suffix):
    """Graph retries for hours any answer but a 2xx: a batch naming no known subscription and
    clientState is acknowledged with 202, and nothing is stored or synced."""
    CalendarWatch.update(sync_requested_at=None).execute()
    name = "microsoft/lifecycle.json" if url_suffix else "microsoft/notification.json"
    body = notification(contoso.watch, client_state="guessed", name=name)
    response = client.post(f"/webhooks/microsoft/{contoso.account.webhook_key}{url_suffix}", json=body)
    assert response.status_code == 202
    watch = CalendarWatch.get_by_id(contoso.watch.id)
    assert watch.sync_requested_at is None and watch.status == CalendarWatch.ACTIVE
    assert Event.select().count() == 0


def lifecycle(client, handle, event):
    body = notification(handle.watch, name="microsoft/lifecycle.json")
    body["value"][0]["lifecycleEvent"] = event
    return client.post(f"/webhooks/microsoft/{handle.account.webhook_key}/lifecycle", json=body)


def test_reauthorization_required_renews_the_subscription(contoso, client, graph):
    assert lifecycle(client, contoso, "reauthorizationRequired").status_code == 202
    graph.serve("PATCH", f"/subscriptions/{SUBSCRIPTION}", 200, payload("microsoft/subscription.json"))
    graph.serve("GET", DELTA_PATH, 200, delta())  # notifications may have lapsed meanwhile
    summary = maintain(contoso.integration.id)
    assert summary["renewed"] == [ORGANIZER] and summary["synced"] == [ORGANIZER]
    (patch,) = [r for r in graph.requests if r[0] == "PATCH"]
    assert set(patch[4]) == {"expirationDateTime"}
    assert CalendarWatch.get_by_id(contoso.watch.id).expires_at == dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


def test_subscription_removed_subscribes_again_and_catches_up(contoso, client, graph, drain):
    assert lifecycle(client, contoso, "subscriptionRemoved").status_code == 202
    assert CalendarWatch.get_by_id(contoso.watch.id).status == CalendarWatch.REMOVED
    new = dict(payload("microsoft/subscription.json"), id="a1b2c3d4-0000-4000-8000-000000000001")
    graph.serve("POST", "/subscriptions", 201, new)
    graph.serve("GET", DELTA_PATH, 200, delta({CANDIDATE: "declined"}))
    summary = maintain(contoso.integration.id)
    drain()
    assert summary["renewed"] == [ORGANIZER] and summary["synced"] == [ORGANIZER]
    (create,) = [r for r in graph.requests if r[0] == "POST"]
    sent = create[4]
    watch = CalendarWatch.get_by_id(contoso.watch.id)
    assert sent["clientState"] == watch.channel_token
    assert sent["resource"] == f"/users/{ORGANIZER}/events"
    assert sent["notificationUrl"].endswith(f"/webhooks/microsoft/{contoso.account.webhook_key}")
    assert sent["lifecycleNotificationUrl"] == sent["notificationUrl"] + "/lifecycle"
    assert watch.channel_id == "a1b2c3d4-0000-4000-8000-000000000001" and watch.status == CalendarWatch.ACTIVE
    assert [t.category for t in open_tasks(contoso.account)] == ["Candidate Declined"]


def test_missed_notifications_trigger_a_delta_sync(contoso, client, graph, drain):
    CalendarWatch.update(sync_requested_at=None).execute()
    assert lifecycle(client, contoso, "missed").status_code == 202
    assert CalendarWatch.get_by_id(contoso.watch.id).sync_requested_at is not None
    graph.serve("GET", DELTA_PATH, 200, delta({INTERVIEWER: "declined"}))
    sync_watch(contoso.watch.id)
    drain()
    assert [t.category for t in open_tasks(contoso.account)] == ["Interviewer Declined"]


def test_events_are_created_on_the_organizers_calendar_with_the_room_as_a_resource(contoso, graph):
    graph.serve("POST", f"/users/{ORGANIZER}/events", 201, {"id": "AAMkNEW="})
    graph.serve("PATCH", f"/users/{ORGANIZER}/events/AAMkNEW=", 200, {"id": "AAMkNEW="})
    graph.serve("POST", f"/users/{ORGANIZER}/events/AAMkNEW=/cancel", 202, None)
    start = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)
    event = CalendarEvent(
        organizer=ORGANIZER,
        title="Ada Lovelace: System design",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        invitees=(Invitee(INTERVIEWER, "Ian Interviewer"), Invitee(MS_ROOM, "Room Hopper (8)", "room")),
        location="Room Hopper (8)",
    )
    port = calendar_for(contoso.account)
    assert port.create_event(event) == "AAMkNEW="
    port.update_event("AAMkNEW=", event)
    port.cancel_event("AAMkNEW=", ORGANIZER)
    create, update, cancel = graph.requests
    assert create[4]["attendees"] == [
        {"emailAddress": {"address": INTERVIEWER, "name": "Ian Interviewer"}, "type": "required"},
        {"emailAddress": {"address": MS_ROOM, "name": "Room Hopper (8)"}, "type": "resource"},
    ]
    assert create[4]["start"] == {"dateTime": "2026-12-01T10:00:00", "timeZone": "UTC"}
    assert update[0] == "PATCH" and cancel[1].endswith("/cancel")


def test_subscriptions_are_renewed_before_they_expire(contoso, graph):
    CalendarWatch.update(expires_at=utcnow() + dt.timedelta(hours=3)).execute()
    graph.serve("PATCH", f"/subscriptions/{SUBSCRIPTION}", 200, payload("microsoft/subscription.json"))
    assert maintain(contoso.integration.id)["renewed"] == [ORGANIZER]


def test_a_subscription_that_cannot_be_renewed_is_a_broken_integration_until_it_is(contoso, graph, drain):
    from webapp.models import Integration, Task

    CalendarWatch.update(expires_at=utcnow() + dt.timedelta(hours=3)).execute()
    unavailable = {"error": {"code": "serviceNotAvailable", "message": "The service is temporarily unavailable."}}
    graph.serve("PATCH", f"/subscriptions/{SUBSCRIPTION}", 503, unavailable)
    graph.serve("PATCH", f"/subscriptions/{SUBSCRIPTION}", 200, payload("microsoft/subscription.json"))

    assert maintain(contoso.integration.id)["status"] == "failing"
    drain()
    [task] = Task.select().where(Task.category == "Broken Integration")
    assert task.status == Task.OPEN and "could not renew its watch on the calendar of" in task.recommended_action

    summary = maintain(contoso.integration.id)
    drain()
    assert summary["status"] == "ok" and summary["renewed"] == [ORGANIZER]
    assert Task.get_by_id(task.id).status == Task.COMPLETED
    assert Integration.get_by_id(contoso.integration.id).status == Integration.OK
