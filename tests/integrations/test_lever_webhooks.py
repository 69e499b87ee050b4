"""Lever webhooks on payloads written from Lever's documentation: the in-body signature and each event."""

import json
import time

import pytest

from webapp.models import Application, Event, Schedule, Stage
from webapp.row_events import rulebook_events

from .conftest import PAYLOADS, SECRET, hexmac

OPPORTUNITY = "250d8f03-738a-4bba-a671-8a3d73477145"
ONSITE = "00922a60-7c15-422b-b086-f62000824fd7"
EXPECTED = {
    "candidateStageChange": ["application.stage_changed"],
    "candidateHired": ["application.closed"],
    "candidateArchiveChange": ["application.closed"],
    "interviewCreated": ["schedule.created"],
    "interviewUpdated": ["schedule.updated"],
    "interviewDeleted": ["schedule.cancelled"],
    "candidateDeleted": ["candidate.erased", "application.closed"],
    "applicationCreated": [],  # processed for the mirror: a new opportunity is in no stage Docket knows yet
}
IGNORED_ON_PURPOSE = {}
ALL_PAYLOADS = sorted(p.stem for p in (PAYLOADS / "lever").glob("*.json"))


# Docket refuses a signed delivery triggered long ago (a replay): the samples' times (epoch
# milliseconds) are all moved by one offset, so that the latest is now and their order is kept.
LATEST_SAMPLE = max(json.loads(p.read_text())["triggeredAt"] for p in (PAYLOADS / "lever").glob("*.json"))
NOW_MS = int(time.time() * 1000)


def _moved(value):
    if isinstance(value, dict):
        return {key: _moved(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_moved(item) for item in value]
    if isinstance(value, int) and 1_500_000_000_000 < value < 2_000_000_000_000:
        return value + NOW_MS - LATEST_SAMPLE
    return value


def signed(name, secret=SECRET, **changes):
    """A documented Lever payload, its times moved to now, with its signature made as Lever makes it."""
    payload = _moved(json.loads((PAYLOADS / "lever" / f"{name}.json").read_text()))
    payload.update(changes)
    payload["signature"] = hexmac(secret, f"{payload['token']}{payload['triggeredAt']}".encode())
    return payload


def post(client, account, payload):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(
        f"/webhooks/lever/{account.webhook_key}", data=body, headers={"Content-Type": "application/json"}
    )


@pytest.fixture
def acme(make_account, connect):
    handle = make_account("Acme")
    # Lever gives each event type its own signature token: the integration holds several.
    connect(handle, "lever", secret=f"another-events-token, {SECRET}")
    return handle


def test_every_payload_is_listed():
    assert set(ALL_PAYLOADS) == set(EXPECTED) | set(IGNORED_ON_PURPOSE)


@pytest.mark.parametrize("name", ALL_PAYLOADS)
def test_each_event_is_stored_then_processed_or_ignored(client, acme, drain, name):
    # The mirror knows the opportunity in a stage, so that interviews have a stage to be for.
    stage = Stage.create(account=acme.account, external_id=ONSITE, name="On-site", scheduling_enabled=True)
    Application.create(account=acme.account, external_id=OPPORTUNITY, stage=stage)
    assert post(client, acme.account, signed(name)).status_code == 200
    drain()
    row = Event.get(Event.type == name)
    if name in EXPECTED:
        assert row.status == Event.PROCESSED, row.last_error
        types = [e["type"] for e in rulebook_events(row)]
        assert types == EXPECTED[name]
    else:
        assert row.status == Event.IGNORED


def test_stage_change_into_a_scheduling_stage_then_an_interview_in_lever_completes_the_task(client, acme, drain):
    Stage.create(account=acme.account, external_id=ONSITE, name="On-site", scheduling_enabled=True)
    post(client, acme.account, signed("applicationCreated"))
    post(client, acme.account, signed("candidateStageChange"))
    drain()
    [task] = acme.tasks()
    assert task["category"] == "Ready to Schedule" and task["status"] == "open"
    assert Application.get(Application.external_id == OPPORTUNITY).stage.external_id == ONSITE

    post(client, acme.account, signed("interviewCreated"))
    drain()
    assert [t["status"] for t in acme.tasks()] == ["completed"]
    assert Schedule.get(Schedule.external_id == "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e").stage.external_id == ONSITE


def test_archiving_the_opportunity_completes_its_task(client, acme, drain):
    Stage.create(account=acme.account, external_id=ONSITE, name="On-site", scheduling_enabled=True)
    post(client, acme.account, signed("candidateStageChange"))
    post(client, acme.account, signed("candidateArchiveChange"))
    drain()
    [task] = acme.tasks()
    assert task["status"] == "completed"
    assert Application.get(Application.external_id == OPPORTUNITY).status == "archived"


def test_missing_signature_is_refused(client, acme):
    payload = signed("candidateHired")
    del payload["signature"]
    assert post(client, acme.account, payload).status_code == 401
    assert Event.select().count() == 0


@pytest.mark.parametrize("field", ["token", "triggeredAt", "signature"])
def test_a_tampered_signed_field_is_refused(client, acme, field):
    payload = signed("candidateHired")
    payload[field] = payload[field] + 1 if isinstance(payload[field], int) else payload[field][:-1] + "0"
    if payload[field] == signed("candidateHired")[field]:
        payload[field] = payload[field][:-1] + "1"
    assert post(client, acme.account, payload).status_code == 401


def test_a_signature_made_with_another_token_is_refused(client, acme):
    assert post(client, acme.account, signed("candidateHired", secret="not-ours")).status_code == 401


def test_a_body_that_is_not_json_is_refused(client, acme):
    answer = post(client, acme.account, b"not json")
    assert answer.status_code == 400 and answer.get_json()["error"] == "bad_json"


@pytest.mark.parametrize("signature", [1, None, ["ab"], {"hex": "ab"}, ""])
def test_a_signature_that_is_not_a_string_is_refused(client, acme, signature):
    payload = dict(signed("candidateHired"), signature=signature)
    assert post(client, acme.account, payload).status_code == 401
    assert Event.select().count() == 0


def test_a_captured_delivery_resent_with_a_new_id_and_other_data_is_only_a_redelivery(client, acme, drain):
    """Lever signs token and triggeredAt only: the body's `id` is not theirs to vouch for."""
    Stage.create(account=acme.account, external_id=ONSITE, name="On-site", scheduling_enabled=True)
    first = signed("candidateStageChange")
    assert post(client, acme.account, first).get_json()["duplicate"] is False
    hire = signed("candidateHired")
    forged = dict(first, id="a-brand-new-id", event="candidateHired", data=hire["data"])
    assert post(client, acme.account, forged).get_json()["duplicate"] is True
    drain()
    [row] = Event.select()
    assert row.payload["event"] == "candidateStageChange"
    assert [t["status"] for t in acme.tasks()] == ["open"]  # nobody was hired


@pytest.mark.parametrize("hours", [-73, 1])
def test_a_signed_delivery_triggered_far_from_now_is_refused(client, acme, hours):
    payload = signed("candidateHired", triggeredAt=NOW_MS + hours * 3_600_000)
    payload["signature"] = hexmac(SECRET, f"{payload['token']}{payload['triggeredAt']}".encode())
    answer = post(client, acme.account, payload)
    assert answer.status_code == 401 and "too far from now" in answer.get_json()["message"]
    assert Event.select().count() == 0


def test_unicode_escapes_pass(client, acme, drain):
    payload = signed("candidateHired")
    payload["data"]["note"] = "Ren\u00e9e \u2014 hired"
    body = json.dumps(payload, ensure_ascii=True).encode()
    assert b"\\u00e9" in body
    assert post(client, acme.account, body).status_code == 200


def test_a_redelivery_is_stored_once(client, acme):
    payload = signed("candidateHired")
    post(client, acme.account, payload)
    assert post(client, acme.account, payload).get_json()["duplicate"] is True
    assert Event.select().count() == 1


def test_a_captured_signature_replayed_with_other_data_is_only_a_redelivery(client, acme):
    payload = signed("candidateHired")
    assert post(client, acme.account, payload).status_code == 200
    forged = dict(payload, data=dict(payload["data"], opportunityId="someone-else"))
    answer = post(client, acme.account, forged)
    assert answer.status_code == 200 and answer.get_json()["duplicate"] is True
    [row] = Event.select()
    assert row.payload["data"]["opportunityId"] == OPPORTUNITY
