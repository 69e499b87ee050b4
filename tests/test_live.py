"""Live updates on the real Redis: what the worker and the views announce reaches an open list's
stream as `event: tasks`, per account, and nothing breaks when Redis is away."""

import logging

import pytest

from tests import events as ev
from tests.helpers import process, sign_in
from webapp import create_app, live
from webapp.models import Task

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def next_message(pubsub, timeout=5):
    message = pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
    return message and (message["channel"].decode(), message["data"].decode())


@pytest.fixture
def acme(make_account, client):
    """Acme with Casey signed in and one open task of theirs (a broken integration)."""
    handle = make_account("Acme")
    process(handle, ev.integration_event("failed", 2))
    handle.csrf = sign_in(client, handle.user.email)
    return handle


def test_a_published_change_reaches_the_accounts_subscriber_and_no_other(app):
    mine, theirs = live.subscribe(1), live.subscribe(2)
    try:
        live.publish_changes([1, 1, 3])
        assert next_message(mine) == (live.channel(1), "changed")
        assert next_message(mine, timeout=0.2) is None  # one message per account, however often named
        assert next_message(theirs, timeout=0.2) is None
    finally:
        mine.close()
        theirs.close()


def test_publishing_while_redis_is_away_logs_and_does_not_raise(settings, _schema, caplog):
    app = create_app({**settings, "REDIS_URL": DEAD_REDIS})
    with app.app_context(), caplog.at_level(logging.WARNING, logger="webapp.live"):
        live.publish_changes([1])
    assert "could not announce task changes for accounts [1]" in caplog.text


def test_processing_a_batch_announces_its_accounts_changes(app, make_account):
    handle = make_account("Acme")
    pubsub = live.subscribe(handle.account.id)
    try:
        process(handle, ev.job_event("created", 1))
        assert next_message(pubsub) == (live.channel(handle.account.id), "changed")
    finally:
        pubsub.close()


def test_completing_and_reopening_by_hand_announce_the_change_to_colleagues(client, acme):
    task = Task.get(Task.status == "open")
    pubsub = live.subscribe(acme.account.id)
    try:
        client.post(f"/tasks/{task.id}/complete", headers={"X-CSRFToken": acme.csrf})
        assert next_message(pubsub) == (live.channel(acme.account.id), "changed")
        acme.post(f"/api/tasks/{task.id}/reopen")
        assert next_message(pubsub) == (live.channel(acme.account.id), "changed")
    finally:
        pubsub.close()


def test_the_stream_needs_a_signed_in_user(client):
    response = client.get("/tasks/stream")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_stream_sends_a_published_change_as_a_tasks_event(app, client, acme):
    app.config.update(LIVE_STREAM_SECONDS=5, LIVE_HEARTBEAT_SECONDS=5)
    response = client.get("/tasks/stream", buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Accel-Buffering"] == "no"
    chunks = (chunk.decode() for chunk in response.response)
    assert next(chunks) == "retry: 500\nid: docket\n\n"  # subscribed: nothing published from now on is missed
    live.publish_changes([acme.account.id + 1])  # another account's news is not sent
    live.publish_changes([acme.account.id])
    assert next(chunks) == "event: tasks\ndata: changed\n\n"
    response.close()


def test_the_stream_beats_then_ends_so_the_browser_reconnects(app, client, acme):
    app.config.update(LIVE_STREAM_SECONDS=0.5, LIVE_HEARTBEAT_SECONDS=0.2)
    body = client.get("/tasks/stream").get_data(as_text=True)
    assert body.startswith("retry: 500\nid: docket\n\n")
    assert ": still here\n\n" in body
    assert "event: tasks" not in body


def test_a_reconnected_stream_starts_with_an_event_for_what_it_may_have_missed(app, client, acme):
    app.config.update(LIVE_STREAM_SECONDS=0.2)
    body = client.get("/tasks/stream", headers={"Last-Event-ID": "docket"}).get_data(as_text=True)
    assert body.startswith("retry: 500\nid: docket\n\nevent: tasks\ndata: changed\n\n")


def test_without_redis_the_stream_is_unavailable_and_the_page_still_renders(app, client, acme):
    app.config["REDIS_URL"] = DEAD_REDIS
    response = client.get("/tasks/stream")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    page = client.get("/tasks").get_data(as_text=True)
    assert "Google Calendar integration is broken" in page
    assert 'hx-trigger="every 5s, sse:tasks"' in page  # the poller stays


def test_the_list_page_follows_its_stream_and_keeps_polling(client, acme):
    page = client.get("/tasks").get_data(as_text=True)
    assert 'hx-ext="sse" sse-connect="/tasks/stream"' in page
    assert "/static/vendor/htmx-ext-sse.min.js" in page
    assert 'hx-trigger="every 5s, sse:tasks"' in page
