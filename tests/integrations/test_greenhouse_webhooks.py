"""Greenhouse webhooks: every published example through the real endpoint, signatures, and what each does."""

import json

import pytest

from webapp.integrations.base import VENDORS
from webapp.models import Application, Candidate, Event, Integration, Interview, Job, Stage, Task, TaskHistory, User
from webapp.row_events import rulebook_events

from .conftest import GREENHOUSE, SECRET, greenhouse_fixture, hexmac

# What each of Greenhouse's published examples becomes, and for the ignored ones, why.
EXPECTED = {
    "candidate_stage_change": ["application.stage_changed"],
    "new_candidate_application": ["application.stage_changed"],
    "unreject_candidate": ["application.stage_changed"],  # active again, in its current stage
    "unhire_candidate": ["application.stage_changed"],  # active again, in its current stage
    "reject_candidate": ["application.closed"],
    "hire_candidate": ["application.closed"],
    "delete_application": ["application.closed"],
    # The candidate erased (their tasks complete), then each deleted application closed.
    "delete_candidate": ["candidate.erased", "application.closed", "application.closed"],
    "candidate_anonymized": ["candidate.erased"],
    "job_created": ["job.created"],
    "job_deleted": ["job.closed"],
    "job_interview_stage_deleted": ["stage.deleted"],
    # Processed for the mirror alone: no Docket event.
    "job_updated": [],  # the example job is still open: its name and coordinator are kept current
    "update_candidate": [],  # and a hand-over of tasks when the coordinator changes
    "merge_candidate": ["candidate.erased"],  # the merged-away record; its tasks follow the survivor
}
IGNORED_ON_PURPOSE = {
    "interview_deleted": "the example scheduled interview is unknown to the mirror (test_harvest_scheduled_interviews)",
    "application_updated": "field edits; stage moves arrive as candidate_stage_change",
    "department_deleted": "departments do not affect scheduling",
    "job_approved": "approval flows precede job_created/job_updated",
    "job_post_created": "job posts are the public listing, not the job",
    "job_post_updated": "job posts are the public listing, not the job",
    "job_post_deleted": "job posts are the public listing, not the job",
    "new_prospect_application": "a prospect is in no interview stage",
    "offer_approved": "offers are not scheduling work",
    "offer_created": "offers are not scheduling work",
    "offer_updated": "offers are not scheduling work",
    "offer_deleted": "offers are not scheduling work",
    "office_deleted": "offices do not affect scheduling",
    "scorecard_deleted": "scorecards are feedback, not scheduling",
}
ALL_FIXTURES = sorted(p.stem for p in GREENHOUSE.glob("*.json"))


# Inbox row ids by the Greenhouse-Event-ID each delivery was posted with (Docket names a
# Greenhouse delivery by its body's digest: the header is not signed).
POSTED = {}


def post(client, account, body, secret=SECRET, event_id=None, signature=None, headers=None):
    sent = {"Content-Type": "application/json"}
    if signature is not False:
        sent["Signature"] = signature or f"sha256 {hexmac(secret, body)}"
    if event_id:
        sent["Greenhouse-Event-ID"] = event_id
    sent.update(headers or {})
    response = client.post(f"/webhooks/greenhouse/{account.webhook_key}", data=body, headers=sent)
    if event_id and response.status_code == 200 and "event" in (response.get_json() or {}):
        POSTED[event_id] = response.get_json()["event"]
    return response


def posted(event_id):
    """The inbox row of the delivery posted with this Greenhouse-Event-ID."""
    return Event.get_by_id(POSTED[event_id])


@pytest.fixture
def acme(make_account, connect):
    handle = make_account("Acme")
    connect(handle, "greenhouse")
    return handle


def test_every_published_example_is_listed_as_handled_or_ignored_on_purpose():
    assert set(ALL_FIXTURES) == set(EXPECTED) | set(IGNORED_ON_PURPOSE)
    assert not set(EXPECTED) & set(IGNORED_ON_PURPOSE)


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_each_published_example_is_stored_then_processed_or_ignored(client, acme, drain, name):
    body = greenhouse_fixture(name)
    response = post(client, acme.account, body, event_id=f"evt-{name}")
    assert response.status_code == 200, response.get_json()
    row = Event.get_by_id(response.get_json()["event"])
    assert row.account_id == acme.account.id and row.status == Event.PENDING and row.type == name
    drain()
    row = Event.get_by_id(row.id)
    if name in EXPECTED:
        assert row.status == Event.PROCESSED, row.last_error
        types = [e["type"] for e in rulebook_events(row)]
        assert types == EXPECTED[name]
    else:
        assert row.status == Event.IGNORED, (row.status, row.last_error)


LONG_AGO = "2010-01-01T00:00:00Z"  # before every published example, so those come after it

# The published examples that close applications, and the applications each names.
CLOSING = {
    "reject_candidate": ["265293"],
    "hire_candidate": ["46194062"],
    "delete_application": ["46194062"],
    "delete_candidate": ["46196263", "46196258"],
}


@pytest.mark.parametrize("name, applications", CLOSING.items(), ids=list(CLOSING))
def test_each_published_closing_example_completes_its_applications_tasks(client, acme, drain, name, applications):
    from tests import events as ev

    Stage.create(account=acme.account, external_id=ev.ONSITE["id"], name="Onsite", scheduling_enabled=True)
    for application_id in applications:
        move = ev.stage_changed(
            application={"id": application_id}, candidate=dict(ev.CANDIDATE, id=f"c-{application_id}")
        )
        move["occurred_at"] = LONG_AGO
        assert acme.post_event(move).status_code == 202
    drain()
    assert [t["status"] for t in acme.tasks()] == ["open"] * len(applications)

    post(client, acme.account, greenhouse_fixture(name), event_id=name)
    drain()
    assert [t["status"] for t in acme.tasks()] == ["completed"] * len(applications)


# The published examples that put an application in a stage, and that stage's id.
OPENING = {"new_candidate_application": "2944102", "unreject_candidate": "2708728", "unhire_candidate": "678901"}


@pytest.mark.parametrize("name", list(OPENING))
def test_each_published_example_that_puts_an_application_in_a_scheduling_stage_opens_ready_to_schedule(
    client, acme, drain, name
):
    Stage.create(account=acme.account, external_id=OPENING[name], name="A stage", scheduling_enabled=True)
    post(client, acme.account, greenhouse_fixture(name), event_id=name)
    drain()
    [task] = acme.tasks()
    assert task["category"] == "Ready to Schedule" and task["status"] == "open"
    candidate = json.loads(greenhouse_fixture(name))["payload"]["application"]["candidate"]
    assert f"{candidate['first_name']} {candidate['last_name']}" in task["recommended_action"]


def test_the_published_stage_deletion_completes_the_new_stage_task(client, acme, drain):
    from tests import events as ev

    created = ev.envelope(
        "stage.created", job={"id": "60453", "name": "Engineer"}, stage={"id": "430608", "name": "Phone Screen"}
    )
    created["occurred_at"] = LONG_AGO
    assert acme.post_event(created).status_code == 202
    drain()
    [task] = acme.tasks()
    assert task["category"] == "New Stage" and task["status"] == "open"
    post(client, acme.account, greenhouse_fixture("job_interview_stage_deleted"), event_id="deleted")
    drain()
    [task] = acme.tasks()
    assert task["status"] == "completed"


def test_candidate_moved_into_a_scheduling_stage_gets_a_task_for_their_coordinator(client, acme, drain):
    payload = json.loads(greenhouse_fixture("candidate_stage_change"))
    application = payload["payload"]["application"]
    # The mirror knows the application in an earlier stage, and the new stage is set up for scheduling.
    earlier = dict(payload, payload={"application": dict(application, current_stage={"id": 70000, "name": "Screen"})})
    earlier["payload"]["application"]["last_activity_at"] = "2015-02-01T10:00:00Z"
    post(client, acme.account, json.dumps(earlier).encode(), event_id="earlier")
    drain()
    Stage.create(account=acme.account, external_id="71416", name="Assessment", scheduling_enabled=True)

    post(client, acme.account, greenhouse_fixture("candidate_stage_change"), event_id="move")
    drain()

    [task] = acme.tasks(status="open")
    assert task["category"] == "Ready to Schedule"
    assert task["assignee"]["email"] == "alicia.flopple.3128@example.com"
    assert task["recommended_action"] == "Schedule Giuseppe Hurley for Assessment (Designer)"
    app_row = Application.get(Application.external_id == "265277")
    assert app_row.stage.external_id == "71416"
    # The previous stage came from the mirror, since Greenhouse does not send it.
    row = posted("move")
    assert "previous_stage" not in VENDORS["greenhouse"].normalise(row, None)[0]["data"]


def test_rejecting_the_candidate_completes_their_ready_to_schedule_task(client, acme, drain):
    stage_change = json.loads(greenhouse_fixture("candidate_stage_change"))
    application = stage_change["payload"]["application"]
    application["id"] = 265293  # the application reject_candidate names
    application["last_activity_at"] = "2015-02-10T10:00:00Z"
    Stage.create(account=acme.account, external_id="71416", name="Assessment", scheduling_enabled=True)
    post(client, acme.account, json.dumps(stage_change).encode(), event_id="move")
    drain()
    assert [t["status"] for t in acme.tasks()] == ["open"]

    post(client, acme.account, greenhouse_fixture("reject_candidate"), event_id="reject")
    drain()
    [task] = acme.tasks()
    assert task["status"] == "completed"
    assert Application.get(Application.external_id == "265293").status == "rejected"


def test_new_job_opens_a_task_and_deleting_the_job_completes_it(client, acme, drain):
    job_created = json.loads(greenhouse_fixture("job_created"))
    post(client, acme.account, greenhouse_fixture("job_created"), event_id="created")
    drain()
    [task] = acme.tasks(status="open")
    assert task["category"] == "New Job" and task["title"] == "New job: Software Engineer"
    assert task["assignee"]["email"] == acme.user.email  # no coordinator on the hiring team: the creator

    deleted = {
        "action": "job_deleted",
        "payload": {"job": {"id": job_created["payload"]["job"]["id"], "name": "Software Engineer"}},
    }
    post(client, acme.account, json.dumps(deleted).encode(), event_id="deleted")
    drain()
    assert [t["status"] for t in acme.tasks()] == ["completed"]
    assert Job.get(Job.external_id == "371417").status == "closed"


def test_a_job_update_that_closes_the_job_raises_job_closed(client, acme, drain):
    body = json.loads(greenhouse_fixture("job_updated"))
    body["payload"]["job"]["status"] = "closed"
    body["payload"]["job"]["closed_at"] = "2016-01-01T00:00:00Z"
    post(client, acme.account, json.dumps(body).encode(), event_id="closed")
    drain()
    assert posted("closed").status == Event.PROCESSED
    assert Job.get(Job.external_id == "100445").status == "closed"


def test_job_coordinator_is_named_through_harvest_users(client, make_account, connect, drain, app):
    handle = make_account("Globex")
    integration = connect(handle, "greenhouse", api_key="harvest-key")
    integration.state = {"users": {"7777": {"email": "teddy.pizzazz@globex.test", "name": "Teddy Pizzazz"}}}
    integration.save()
    body = json.loads(greenhouse_fixture("job_created"))
    body["payload"]["job"]["hiring_team"]["coordinators"] = [{"user_id": 7777, "employee_id": None}]
    post(client, handle.account, json.dumps(body).encode(), event_id="created")
    drain()
    [task] = handle.tasks()
    assert task["assignee"]["email"] == "teddy.pizzazz@globex.test"
    assert Job.get(Job.external_id == "371417").coordinator.email == "teddy.pizzazz@globex.test"


def _job_created_naming_coordinator(user_id):
    body = json.loads(greenhouse_fixture("job_created"))
    body["payload"]["job"]["hiring_team"]["coordinators"] = [{"user_id": user_id, "employee_id": None}]
    return json.dumps(body).encode()


def test_a_coordinator_the_cache_lacks_is_looked_up_before_the_workers_transaction(
    client, make_account, connect, drain, harvest
):
    from webapp.db import database

    from .test_harvest_sync import user

    handle = make_account("Globex")
    connect(handle, "greenhouse", api_key="harvest-key")
    harvest.serve("/users/8888", user(8888, "rosa.diaz@globex.test", "Rosa Diaz"))
    in_transaction = []
    transport = harvest.__call__

    def watching(method, url, headers):
        in_transaction.append(database.in_transaction())
        return transport(method, url, headers)

    client.application.config["HARVEST_TRANSPORT"] = watching
    post(client, handle.account, _job_created_naming_coordinator(8888), event_id="created")
    drain()
    [task] = handle.tasks()
    assert task["category"] == "New Job" and task["assignee"]["email"] == "rosa.diaz@globex.test"
    assert in_transaction == [False]  # one call, made outside the batch's transaction
    cached = Integration.of(handle.account, "greenhouse").state["users"]["8888"]
    assert cached == {"email": "rosa.diaz@globex.test", "name": "Rosa Diaz"}


def test_a_harvest_key_refused_on_a_webhooks_look_up_opens_broken_integration(
    client, make_account, connect, drain, harvest
):
    handle = make_account("Globex")
    connect(handle, "greenhouse", api_key="harvest-key")
    harvest.serve("/users/8888", {"message": "Invalid Basic Auth credentials"}, status=401)
    post(client, handle.account, _job_created_naming_coordinator(8888), event_id="created")
    drain()
    tasks = {t["category"]: t for t in handle.tasks()}
    assert set(tasks) == {"New Job", "Broken Integration"}
    assert tasks["New Job"]["assignee"]["email"] == handle.user.email  # the coordinator could not be named
    assert Integration.of(handle.account, "greenhouse").status == "failing"
    assert posted("created").status == Event.PROCESSED


def _open_task_for_candidate(acme, candidate_id, coordinator=None):
    from tests.events import JOB, stage_changed

    candidate = {"id": candidate_id, "name": "Ronald Ronnie"}
    if coordinator:
        candidate["coordinator"] = coordinator
    Stage.create(account=acme.account, external_id="stage-onsite", name="Onsite", scheduling_enabled=True)
    response = acme.post_event(stage_changed(application={"id": f"app-{candidate_id}"}, candidate=candidate))
    assert response.status_code == 202, response.get_json()
    return JOB


def test_a_new_coordinator_takes_over_the_candidates_open_tasks(client, acme, drain):
    _open_task_for_candidate(acme, "15696179", {"email": "old.coordinator@acme.test", "name": "Old Coordinator"})
    drain()
    [task] = acme.tasks(status="open")
    assert task["assignee"]["email"] == "old.coordinator@acme.test"

    post(client, acme.account, greenhouse_fixture("update_candidate"), event_id="update")
    drain()
    [task] = acme.tasks(status="open")
    assert task["assignee"]["email"] == "sterling.kang.83637@example.com"
    [history] = TaskHistory.select().where(TaskHistory.kind == "reassigned")
    assert "Sterling Kang" in history.note and history.event.id == POSTED["update"]
    candidate = Candidate.get(Candidate.external_id == "15696179")
    assert candidate.coordinator.email == "sterling.kang.83637@example.com"
    assert User.get(User.email == "sterling.kang.83637@example.com").last_login_at is None


def test_an_edit_that_names_the_same_coordinator_moves_no_task(client, acme, drain):
    sterling = {"email": "sterling.kang.83637@example.com", "name": "Sterling Kang"}
    _open_task_for_candidate(acme, "15696179", sterling)
    drain()
    [task] = Task.select()
    # A colleague has this task now (say an admin's rule gives it to the job's coordinator).
    task.assignee = User.for_email(acme.account, "colleague@acme.test", "Colleague")
    task.save()

    post(client, acme.account, greenhouse_fixture("update_candidate"), event_id="edit")
    drain()
    assert posted("edit").status != Event.FAILED
    assert Task.get_by_id(task.id).assignee.email == "colleague@acme.test"
    assert not TaskHistory.select().where(TaskHistory.kind == "reassigned").exists()

    body = json.loads(greenhouse_fixture("update_candidate"))
    body["payload"]["candidate"]["coordinator"] = {"id": 1, "name": "Nia Ode", "email": "nia@acme.test"}
    post(client, acme.account, json.dumps(body).encode(), event_id="new-coordinator")
    drain()
    assert Task.get_by_id(task.id).assignee.email == "nia@acme.test"


def test_a_merge_hands_the_merged_candidates_tasks_to_the_coordinator_greenhouse_names(client, acme, drain):
    integration = Integration.of(acme.account, "greenhouse")
    integration.state = {"users": {"456": {"email": "mira.lager@acme.test", "name": "Mira Lager"}}}
    integration.save()
    _open_task_for_candidate(acme, "37031511")
    drain()

    post(client, acme.account, greenhouse_fixture("merge_candidate"), event_id="merge")
    drain()
    [task] = acme.tasks(status="open")
    assert task["assignee"]["email"] == "mira.lager@acme.test"
    survivor = Candidate.get(Candidate.external_id == "457456")
    assert survivor.coordinator.email == "mira.lager@acme.test"
    assert Application.get(Application.external_id == "app-37031511").candidate_id == survivor.id


def test_interview_deleted_names_a_scheduled_interview_not_a_stage_interview(client, acme, drain):
    # Greenhouse: "fires when a scheduled interview is cancelled or the interview is deleted
    # directly". An id the mirror has as a stage's interview is not one of a schedule's.
    job = Job.create(account=acme.account, external_id="60453", name="Engineer")
    stage = Stage.create(account=acme.account, job=job, external_id="430608", name="Phone Screen")
    Interview.create(account=acme.account, stage=stage, external_id="31087450", name="Screen call")
    post(client, acme.account, greenhouse_fixture("interview_deleted"), event_id="gone")
    drain()
    assert posted("gone").status == Event.IGNORED
    assert not Interview.get(Interview.external_id == "31087450").deleted
    # tests/integrations/test_harvest_scheduled_interviews.py deletes scheduled interviews it synced.


# -- the endpoint --------------------------------------------------------------------------------


def test_missing_signature_is_refused_and_nothing_is_stored(client, acme):
    response = post(client, acme.account, greenhouse_fixture("job_created"), signature=False)
    assert response.status_code == 401
    assert Event.select().count() == 0


@pytest.mark.parametrize(
    "signature",
    [
        "sha256 " + "0" * 64,
        "sha256 nothex",
        "sha1 " + "0" * 40,
        "sha256",
        "",
    ],
)
def test_wrong_signatures_are_refused(client, acme, signature):
    body = greenhouse_fixture("job_created")
    response = post(client, acme.account, body, signature=signature or " ")
    assert response.status_code == 401
    assert Event.select().count() == 0


def test_signature_made_with_another_secret_is_refused(client, acme):
    response = post(client, acme.account, greenhouse_fixture("job_created"), secret="someone-else")
    assert response.status_code == 401


def test_a_secret_with_spaces_and_commas_is_one_secret(client, make_account, connect):
    handle = make_account("Initech")
    connect(handle, "greenhouse", secret="correct horse, battery staple")
    body = greenhouse_fixture("job_created")
    assert post(client, handle.account, body, secret="correct horse, battery staple").status_code == 200
    for fragment in ("correct", "horse", "battery", "staple"):
        assert post(client, handle.account, body, secret=fragment).status_code == 401
    assert Event.select().count() == 1


def test_tampered_body_is_refused(client, acme):
    body = greenhouse_fixture("job_created")
    signature = f"sha256 {hexmac(SECRET, body)}"
    tampered = body.replace(b"Software Engineer", b"Software Engineet")
    assert post(client, acme.account, tampered, signature=signature).status_code == 401


def test_a_body_reserialised_with_other_whitespace_is_refused(client, acme):
    body = greenhouse_fixture("job_created")
    signature = f"sha256 {hexmac(SECRET, body)}"
    reserialised = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert json.loads(reserialised) == json.loads(body)
    assert post(client, acme.account, reserialised, signature=signature).status_code == 401


def test_unicode_escapes_as_greenhouse_sends_them_pass(client, acme, drain):
    body = json.loads(greenhouse_fixture("job_created"))
    body["payload"]["job"]["name"] = "Ingeni\u00e9ro logiciel \u2014 Montr\u00e9al"
    raw = json.dumps(body, indent=2, ensure_ascii=True).encode()  # \u00e9 escapes on the wire
    assert b"\\u00e9" in raw
    assert post(client, acme.account, raw, event_id="unicode").status_code == 200
    drain()
    assert Job.get(Job.external_id == "371417").name == "Ingeniéro logiciel — Montréal"


def test_unknown_webhook_key_is_not_found(client, acme):
    body = greenhouse_fixture("job_created")
    response = client.post(
        "/webhooks/greenhouse/not-a-key", data=body, headers={"Signature": f"sha256 {hexmac(SECRET, body)}"}
    )
    assert response.status_code == 404


def test_an_account_that_has_not_connected_greenhouse_is_not_found(client, make_account):
    handle = make_account("Initech")
    body = greenhouse_fixture("job_created")
    assert post(client, handle.account, body).status_code == 404
    assert client.post(f"/webhooks/workday/{handle.account.webhook_key}", data=body).status_code == 404


def test_a_body_over_one_mebibyte_is_refused(client, acme):
    body = b'{"action": "job_created", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    assert post(client, acme.account, body).status_code == 413
    assert Event.select().count() == 0


def test_ping_is_answered_and_not_stored(client, acme):
    body = json.dumps({"action": "ping", "payload": {"web_hook_id": 1}}).encode()
    response = post(client, acme.account, body)
    assert response.status_code == 200 and response.get_json()["ping"] is True
    assert Event.select().count() == 0


def test_a_redelivery_is_acknowledged_without_a_second_row(client, acme):
    body = greenhouse_fixture("job_created")
    first = post(client, acme.account, body, event_id="same")
    second = post(client, acme.account, body, event_id="same")
    assert first.status_code == second.status_code == 200
    assert second.get_json()["duplicate"] is True
    assert Event.select().count() == 1


def test_without_an_event_id_the_body_hash_names_the_delivery(client, acme):
    body = greenhouse_fixture("job_created")
    post(client, acme.account, body)
    post(client, acme.account, body)
    [row] = Event.select()
    assert row.external_id.startswith("sha256:")


def test_the_real_worker_processes_a_greenhouse_delivery(client, acme, run_worker):
    post(client, acme.account, greenhouse_fixture("job_created"), event_id="worker")
    run_worker()
    assert posted("worker").status == Event.PROCESSED
    assert [t["category"] for t in acme.tasks()] == ["New Job"]


def test_a_captured_body_resent_with_a_new_or_no_event_id_is_a_redelivery(client, acme, drain):
    """The Greenhouse-Event-ID header is not signed: a replayed body must not reopen what a
    coordinator completed."""
    Stage.create(account=acme.account, external_id="71416", name="Assessment", scheduling_enabled=True)
    body = greenhouse_fixture("candidate_stage_change")
    assert post(client, acme.account, body, event_id="first").get_json()["duplicate"] is False
    drain()
    [task] = acme.tasks()
    assert acme.post(f"/api/tasks/{task['id']}/complete").status_code == 200
    for event_id in ("replayed", None):
        answer = post(client, acme.account, body, event_id=event_id)
        assert answer.status_code == 200 and answer.get_json()["duplicate"] is True
    drain()
    assert Event.select().count() == 1
    assert [t["status"] for t in acme.tasks()] == ["completed"]


def test_a_signed_webhook_shaped_like_a_docket_envelope_is_not_taken_for_one(client, acme, drain):
    """Only Docket's own sync writes envelopes into the inbox: a Greenhouse delivery is read as a
    Greenhouse delivery, whatever its shape."""
    body = {
        "id": "forged",
        "source": "greenhouse",
        "type": "application.closed",
        "occurred_at": "not a time",
        "data": {"application": {"id": "265277"}, "reason": "hired"},
    }
    answer = post(client, acme.account, json.dumps(body).encode())
    assert answer.status_code == 200
    drain()
    row = Event.get_by_id(answer.get_json()["event"])
    assert row.status == Event.IGNORED and row.last_error is None
