"""POST /api/events: validation, the inbox, and idempotent redelivery."""

import pytest

from tests import events
from webapp.models import Event


def test_new_event_is_accepted_into_the_inbox(make_account):
    acme = make_account()
    response = acme.post_event(events.stage_changed(event_id="move-1"))
    assert response.status_code == 202
    body = response.get_json()
    row = Event.get_by_id(body["id"])
    assert (row.source, row.external_id, row.type, row.status) == (
        "api",
        "move-1",
        "application.stage_changed",
        "pending",
    )
    assert body["duplicate"] is False


def test_redelivery_answers_200_with_the_first_id_and_stores_nothing_new(make_account):
    acme = make_account()
    first = acme.post_event(events.stage_changed(event_id="move-1"))
    again = acme.post_event(events.stage_changed(event_id="move-1"))
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["duplicate"] is True
    assert Event.select().count() == 1


def test_same_event_id_in_two_accounts_is_two_events(make_account):
    acme, globex = make_account("Acme"), make_account("Globex")
    assert acme.post_event(events.job_event("created", event_id="e1")).status_code == 202
    assert globex.post_event(events.job_event("created", event_id="e1")).status_code == 202
    assert Event.select().count() == 2


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda e: e.pop("id"), "id"),
        (lambda e: e.update(id=""), "id"),
        (lambda e: e.update(type="candidate.teleported"), "type"),
        (lambda e: e.pop("type"), "type"),
        (lambda e: e.update(occurred_at="yesterday"), "occurred_at"),
        (lambda e: e.update(occurred_at="2026-11-28T10:00:00"), "occurred_at"),
        (lambda e: e.update(data=[1, 2]), "data"),
        (lambda e: e.update(source="greenhouse"), "source"),
        (lambda e: e.update(colour="blue"), "colour"),
        (lambda e: e["data"].update(stage="Onsite"), "data.stage"),
        (lambda e: e["data"]["application"].pop("id"), "data.application.id"),
        (lambda e: e["data"].update(account={"name": "Evil"}), "data.account"),
    ],
)
def test_malformed_envelope_is_a_400_naming_the_field_and_stores_nothing(make_account, mutate, field):
    acme = make_account()
    envelope = events.stage_changed()
    envelope["data"] = {k: dict(v) if isinstance(v, dict) else v for k, v in envelope["data"].items()}
    mutate(envelope)
    response = acme.post_event(envelope)
    assert response.status_code == 400
    assert response.get_json()["field"] == field
    assert response.get_json()["message"]
    assert Event.select().count() == 0


def test_body_that_is_not_json_is_a_400(make_account):
    acme = make_account()
    response = acme.post("/api/events", data="not json", content_type="application/json")
    assert response.status_code == 400
    assert Event.select().count() == 0


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic Zm9vOmJhcg==", "Bearer "])
def test_events_need_a_valid_bearer_token(client, make_account, header):
    make_account()
    headers = {"Authorization": header} if header else {}
    response = client.post("/api/events", json=events.job_event("created"), headers=headers)
    assert response.status_code == 401
    assert Event.select().count() == 0


def test_event_is_accepted_while_redis_is_unreachable(make_account, app):
    acme = make_account()
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    response = acme.post_event(events.job_event("created"))
    assert response.status_code == 202
    assert Event.get_by_id(response.get_json()["id"]).status == "pending"
