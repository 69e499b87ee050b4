"""Ashby webhooks on payloads written from Ashby's documentation: the raw-body signature and each action."""

import json

import pytest

from webapp.db import database
from webapp.models import Application, Candidate, Event, Job, Stage
from webapp.row_events import rulebook_events

from .conftest import PAYLOADS, SECRET, hexmac

TECHNICAL = "c3a1f9d2-5b7e-4d8a-9f0c-1e2d3c4b5a69"
EXPECTED = {
    "candidateStageChange": ["application.stage_changed"],
    "applicationSubmit": ["application.stage_changed"],
    "applicationUpdate": ["application.closed"],  # the documented example is archived
    "candidateHire": ["application.closed"],
    "jobCreate": ["job.created"],
    "jobUpdate": ["job.closed"],  # the example closes the job
    "candidateDelete": ["candidate.erased"],
    "candidateMerge": ["candidate.erased"],  # the deleted candidate; its tasks follow the merged one
    "interviewScheduleCreate": ["schedule.created"],
    "interviewScheduleUpdate": ["schedule.created"],  # alone, an update is Docket's first sight of the schedule
}
IGNORED_ON_PURPOSE = {
    "offerCreate": "offers are not scheduling work",
}
ALL_PAYLOADS = sorted(p.stem for p in (PAYLOADS / "ashby").glob("*.json"))


def raw(name):
    return (PAYLOADS / "ashby" / f"{name}.json").read_bytes()


def post(client, account, body, secret=SECRET, signature=None):
    headers = {"Content-Type": "application/json"}
    if signature is not False:
        headers["Ashby-Signature"] = signature or f"sha256={hexmac(secret, body)}"
    return client.post(f"/webhooks/ashby/{account.webhook_key}", data=body, headers=headers)


@pytest.fixture
def acme(make_account, connect):
    handle = make_account("Acme")
    connect(handle, "ashby")
    return handle


def test_every_payload_is_listed():
    assert set(ALL_PAYLOADS) == set(EXPECTED) | set(IGNORED_ON_PURPOSE)


@pytest.mark.parametrize("name", ALL_PAYLOADS)
def test_each_action_is_stored_then_processed_or_ignored(client, acme, drain, name):
    assert post(client, acme.account, raw(name)).status_code == 200
    row = Event.get(Event.type == name)
    assert row.external_id == json.loads(raw(name))["webhookActionId"]
    if name in EXPECTED:
        # What the adapter makes of it on the mirror as it was (a schedule's first sighting is news once).
        with database.atomic() as transaction:
            types = [e["type"] for e in rulebook_events(row)]
            transaction.rollback()
        assert types == EXPECTED[name]
    drain()
    row = Event.get_by_id(row.id)
    if name in EXPECTED:
        assert row.status == Event.PROCESSED, row.last_error
    else:
        assert row.status == Event.IGNORED


def test_stage_change_opens_a_task_for_the_coordinator_on_the_hiring_team_and_archiving_completes_it(
    client, acme, drain
):
    Stage.create(account=acme.account, external_id=TECHNICAL, name="Technical Interview", scheduling_enabled=True)
    post(client, acme.account, raw("applicationSubmit"))
    post(client, acme.account, raw("candidateStageChange"))
    drain()
    [task] = acme.tasks()
    assert task["assignee"]["email"] == "kit.coordinator@acme.test"
    assert task["recommended_action"] == "Schedule Renée Okafor for Technical Interview (First Designer)"
    assert Candidate.get(Candidate.external_id == "f9e52a51-a075-4116-a7b8-484deba69004").name == "Renée Okafor"

    post(client, acme.account, raw("applicationUpdate"))
    drain()
    [task] = acme.tasks()
    assert task["status"] == "completed"
    assert Application.get(Application.external_id == "3ae2b801-19f6-41ef-ad28-214bd731948f").status == "archived"


def test_a_new_job_opens_a_task_for_its_coordinator_and_closing_it_completes_the_task(client, acme, drain):
    post(client, acme.account, raw("jobCreate"))
    drain()
    [task] = acme.tasks()
    assert task["category"] == "New Job" and task["assignee"]["email"] == "kit.coordinator@acme.test"
    post(client, acme.account, raw("jobUpdate"))
    drain()
    assert [t["status"] for t in acme.tasks()] == ["completed"]
    assert Job.get(Job.external_id == "4071538b-3cac-4fbf-ac76-f78ed250ffdd").status == "closed"


def test_ping_is_answered_and_not_stored(client, acme):
    body = json.dumps({"action": "ping", "data": {"webhookActionType": "ping"}}).encode()
    assert post(client, acme.account, body).status_code == 200
    assert Event.select().count() == 0


@pytest.mark.parametrize("signature", [False, "sha256=" + "0" * 64, "sha1=abc", "sha256", "=deadbeef"])
def test_missing_or_wrong_signatures_are_refused(client, acme, signature):
    assert post(client, acme.account, raw("jobCreate"), signature=signature).status_code == 401
    assert Event.select().count() == 0


def test_tampered_and_reserialised_bodies_are_refused(client, acme):
    body = raw("jobCreate")
    signature = f"sha256={hexmac(SECRET, body)}"
    assert (
        post(client, acme.account, body.replace(b"First Designer", b"First Designex"), signature=signature).status_code
        == 401
    )
    compact = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert post(client, acme.account, compact, signature=signature).status_code == 401
    assert post(client, acme.account, body, signature=signature).status_code == 200


def test_unicode_escapes_pass(client, acme):
    body = raw("candidateStageChange")
    assert b"Ren\\u00e9e" in body
    assert post(client, acme.account, body).status_code == 200
