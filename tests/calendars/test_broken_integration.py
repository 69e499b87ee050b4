"""Broken calendar integrations: credentials the vendor refuses, 401/403, a watch that cannot be
renewed. Each outage raises one Broken Integration task with a message a coordinator can act on,
and the first success afterwards completes it."""

import datetime as dt
import json

import pytest

from webapp.calendars import CalendarError, CalendarEvent, calendar_for
from webapp.calendars.sync import maintain, sync_watch
from webapp.models import CalendarWatch, Event, Integration, Task, utcnow

from .conftest import INTERVIEWER, ORGANIZER, TOKEN_RESPONSE, error, events_list, raw
from .test_microsoft import DELTA_PATH, delta

BROKEN = "Broken Integration"


@pytest.fixture
def google_acme(make_account, connect_google, make_schedule, make_watch):
    handle = make_account("Acme")
    handle.integration = connect_google(handle)
    make_schedule(handle)
    handle.watch = make_watch(handle.integration)
    return handle


def broken_tasks(account):
    return list(Task.select().where(Task.account == account, Task.category == BROKEN))


def assert_one_outage_then_recovery(handle, fail, succeed, drain, message_part):
    """Fail twice (one task, one event), then succeed once (the task completes)."""
    fail()
    drain()
    fail()
    drain()
    integration = Integration.get_by_id(handle.integration.id)
    assert integration.status == Integration.FAILING
    assert message_part in integration.last_error
    assert Event.select().where(Event.type == "integration.failed").count() == 1
    (task,) = broken_tasks(handle.account)
    assert task.status == Task.OPEN
    assert task.assignee_id == handle.user.id
    assert message_part in task.recommended_action
    assert task.subjects["integration"]["kind"] == "calendar"

    succeed()
    drain()
    assert Integration.get_by_id(handle.integration.id).status == Integration.OK
    (task,) = broken_tasks(handle.account)
    assert task.status == Task.COMPLETED
    assert Event.select().where(Event.type == "integration.restored").count() == 1


GOOGLE_REFUSED = (
    "Google no longer accepts Docket's credentials for calendars of acme.test: reconnect under Settings → Integrations"
)


@pytest.mark.parametrize(
    "responses, message",
    [
        pytest.param([({"status": "400"}, raw("google/invalid_grant.json"))], GOOGLE_REFUSED, id="invalid_grant"),
        pytest.param(
            [
                TOKEN_RESPONSE,
                error(401, "google/unauthorized.json"),
                TOKEN_RESPONSE,
                error(401, "google/unauthorized.json"),
            ],
            GOOGLE_REFUSED,
            id="401",
        ),
        pytest.param(
            [TOKEN_RESPONSE, error(403, "google/forbidden.json")],
            "Google refuses Docket access to the calendar of olivia.organizer@acme.test",
            id="403",
        ),
    ],
)
def test_google_refusing_docket_raises_one_task_until_it_works_again(
    google_acme, google_http, drain, responses, message
):
    def fail():
        google_http(*responses)
        assert sync_watch(google_acme.watch.id)["status"] == "failing"

    def succeed():
        google_http(TOKEN_RESPONSE, events_list())
        assert sync_watch(google_acme.watch.id)["status"] == "ok"

    assert_one_outage_then_recovery(google_acme, fail, succeed, drain, message)


def test_the_broken_integration_message_is_the_actionable_sentence(google_acme, google_http, drain):
    google_http(({"status": "400"}, raw("google/invalid_grant.json")))
    sync_watch(google_acme.watch.id)
    drain()
    (task,) = broken_tasks(google_acme.account)
    assert task.recommended_action == f"Reconnect Google Calendar: {GOOGLE_REFUSED}"


def test_a_refused_schedule_event_raises_the_task_and_fails_the_call(google_acme, google_http, drain):
    google_http(({"status": "400"}, raw("google/invalid_grant.json")))
    now = utcnow()
    with pytest.raises(CalendarError) as raised:
        calendar_for(google_acme.account).create_event(
            CalendarEvent(organizer=ORGANIZER, title="x", starts_at=now, ends_at=now + dt.timedelta(hours=1))
        )
    drain()
    assert raised.value.code == "invalid_grant"
    assert [t.status for t in broken_tasks(google_acme.account)] == [Task.OPEN]


@pytest.mark.parametrize("action", ["schedule", "edit", "cancel"])
def test_a_schedule_the_calendar_refuses_saves_nothing_and_keeps_the_broken_integration(
    google_acme, google_http, drain, action
):
    from webapp import scheduling
    from webapp.models import Schedule, ScheduledInterview, User

    schedule = Schedule.get(Schedule.account == google_acme.account)
    ian = User.for_email(google_acme.account, INTERVIEWER, "Ian Interviewer")
    start = utcnow() + dt.timedelta(days=4)
    slot = scheduling.Slot(
        name="Onsite", starts_at=start, ends_at=start + dt.timedelta(hours=1), interviewer_ids=[ian.id]
    )
    [slot] = scheduling.check(google_acme.account, [slot]).slots
    google_http(({"status": "400"}, raw("google/invalid_grant.json")))
    with pytest.raises(scheduling.CalendarRefused):
        if action == "schedule":
            scheduling.create_schedule(
                google_acme.account, google_acme.user, schedule.application, schedule.stage, [slot]
            )
        elif action == "edit":
            scheduling.update_schedule(google_acme.account, google_acme.user, schedule, [slot])
        else:
            scheduling.cancel_schedule(google_acme.account, google_acme.user, schedule)
    drain()
    # The database kept nothing of the refused change...
    assert Schedule.select().count() == 1 and Schedule.get_by_id(schedule.id).status != "cancelled"
    assert [si.starts_at for si in ScheduledInterview.select()] == [schedule.interviews[0].starts_at]
    # ...but kept the outage: the integration is broken and its creator has the task.
    assert Integration.get_by_id(google_acme.integration.id).status == Integration.FAILING
    [task] = broken_tasks(google_acme.account)
    assert task.status == Task.OPEN and task.recommended_action == f"Reconnect Google Calendar: {GOOGLE_REFUSED}"


def test_a_broken_calendar_with_nothing_to_watch_is_restored_only_by_a_call_that_works(
    make_account, connect_google, google_http, drain
):
    from webapp.calendars.health import report_failure

    handle = make_account("Acme")
    integration = connect_google(handle)  # no schedule: no calendar to watch or sync
    report_failure(integration, "invalid_grant", GOOGLE_REFUSED)
    drain()

    google_http(({"status": "400"}, raw("google/invalid_grant.json")))
    assert maintain(integration.id)["status"] == "failing"
    drain()
    assert [t.status for t in broken_tasks(handle.account)] == [Task.OPEN]

    http = google_http(TOKEN_RESPONSE, events_list())
    assert maintain(integration.id)["status"] == "ok"
    drain()
    assert [t.status for t in broken_tasks(handle.account)] == [Task.COMPLETED]
    [(method, uri, _)] = http.api_requests()
    assert method == "GET" and "maxResults=1" in uri and handle.user.email.replace("@", "%40") in uri


def test_a_channel_that_cannot_be_renewed_breaks_the_integration_until_renewed(google_acme, google_http, drain):
    CalendarWatch.update(expires_at=utcnow() + dt.timedelta(hours=1)).execute()

    def fail():
        google_http(TOKEN_RESPONSE, error(503, "google/backend_error.json"))
        assert maintain(google_acme.integration.id)["status"] == "failing"

    def succeed():
        google_http(
            TOKEN_RESPONSE,
            (
                {"status": "200"},
                json.dumps({"kind": "api#channel", "id": "new", "resourceId": "r2", "expiration": "4102444800000"}),
            ),
            TOKEN_RESPONSE,
            ({"status": "204"}, ""),
        )
        assert maintain(google_acme.integration.id)["status"] == "ok"

    # A sync that works meanwhile does not end this outage: the watch is still not renewed.
    fail()
    google_http(TOKEN_RESPONSE, events_list())
    sync_watch(google_acme.watch.id)
    drain()
    assert Integration.get_by_id(google_acme.integration.id).status == Integration.FAILING
    assert_one_outage_then_recovery(google_acme, fail, succeed, drain, "could not renew its watch")


# -- Microsoft 365 ----------------------------------------------------------------------------


@pytest.fixture
def ms_acme(make_account, make_schedule, make_watch, app):
    from .test_microsoft import SUBSCRIPTION, TENANT, FakeGraph, FakeLogin

    handle = make_account("Acme")
    handle.integration = Integration.create(
        account=handle.account,
        provider="microsoft",
        kind="calendar",
        credentials={"tenant_id": TENANT, "client_id": "3f2c1a8e-5b7d-4e9f-8a6b-1c2d3e4f5a6b", "client_secret": "old"},
        owner_email=handle.user.email,
    )
    make_schedule(handle, event_id="AAMkADNkNmAA=")
    handle.watch = make_watch(handle.integration, channel_id=SUBSCRIPTION, cursor=None)
    handle.login = app.config["MSAL_HTTP_CLIENT"] = FakeLogin()
    handle.graph = app.config["GRAPH_TRANSPORT"] = FakeGraph()
    app.config["GRAPH_SLEEP"] = handle.graph.sleeps.append
    return handle


@pytest.mark.parametrize(
    "token_error, graph_error, message",
    [
        pytest.param(
            (401, "microsoft/invalid_client.json"), None, "Microsoft 365 no longer accepts", id="invalid_client"
        ),
        pytest.param(
            (401, "microsoft/expired_secret.json"), None, "the client secret has expired", id="expired_secret"
        ),
        pytest.param(None, (401, "microsoft/unauthorized.json"), "Microsoft 365 no longer accepts", id="401"),
        pytest.param(None, (403, "microsoft/forbidden.json"), "refuses Docket access", id="403"),
    ],
)
def test_microsoft_refusing_docket_raises_one_task_until_it_works_again(
    ms_acme, drain, token_error, graph_error, message
):
    def fail():
        ms_acme.graph.answers.clear()
        if token_error:
            ms_acme.login.token_answer = (token_error[0], raw(token_error[1]))
        else:
            ms_acme.graph.serve("GET", DELTA_PATH, graph_error[0], json.loads(raw(graph_error[1])))
        assert sync_watch(ms_acme.watch.id)["status"] == "failing"

    def succeed():
        ms_acme.login.token_answer = (200, raw("microsoft/token.json"))
        ms_acme.graph.answers.clear()
        ms_acme.graph.serve("GET", DELTA_PATH, 200, delta())
        assert sync_watch(ms_acme.watch.id)["status"] == "ok"

    assert_one_outage_then_recovery(ms_acme, fail, succeed, drain, message)
