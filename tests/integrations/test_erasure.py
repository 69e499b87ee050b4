"""A candidate deleted, anonymised or merged away in the ATS: their open tasks complete with the
reason (or, after a merge, follow the survivor), and the database holds none of their personal
data any more: not in the SQLite file and its write-ahead log, not in any PostgreSQL row.

Each test goes through the real webhook endpoint (or the API) and a real worker process, on the
vendors' documented payloads."""

import json
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest

from tests.events import JOB, ONSITE, envelope, stage_changed
from webapp.erasure import PLACEHOLDER
from webapp.models import MODELS, Candidate, Stage, Task, TaskHistory

from .conftest import SECRET, greenhouse_fixture
from .test_ashby_webhooks import post as post_ashby
from .test_ashby_webhooks import raw as ashby_raw
from .test_greenhouse_webhooks import post as post_greenhouse
from .test_lever_webhooks import post as post_lever
from .test_lever_webhooks import signed as lever_signed

ERASED = "the candidate's personal data was erased"


def _forms(text):
    """How a string may lie in the database: as text, inside JSON text, inside JSON of JSON."""
    once = json.dumps(text)[1:-1]
    return {text.lower().encode(), once.lower().encode(), json.dumps(once)[1:-1].lower().encode()}


def leftovers(settings, *strings):
    """Which of the strings the database still holds anywhere: SQLite's .db and -wal bytes, or
    every row of every PostgreSQL table."""
    url = settings["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        haystack = _sqlite_bytes(Path(url[len("sqlite:///") :]))
    else:
        connection = psycopg2.connect(url)
        try:
            with connection.cursor() as cursor:
                rows = []
                for model in MODELS:
                    cursor.execute(f'SELECT row_to_json(t)::text FROM "{model._meta.table_name}" t')
                    rows += [row[0] for row in cursor.fetchall()]
        finally:
            connection.close()
        haystack = "\n".join(rows).encode()
    haystack = haystack.lower()
    return [s for s in strings if any(form in haystack for form in _forms(s))]


def _sqlite_bytes(path):
    """The raw bytes of the database file and its write-ahead log, read by another process: closing
    a file of the database in this one would drop the locks this process's connections hold on it
    (POSIX advisory locks are per process), and a worker would then delete the log under them."""
    script = (
        "import sys, pathlib; p = pathlib.Path(sys.argv[1]); "
        "sys.stdout.buffer.write(b''.join(f.read_bytes() for f in (p, pathlib.Path(f'{p}-wal')) if f.exists()))"
    )
    return subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, check=True).stdout


def history_notes(task_id):
    return [h.note for h in TaskHistory.select().where(TaskHistory.task == task_id).order_by(TaskHistory.id)]


def open_task(acme, candidate, application_id, **extra):
    """A Ready to Schedule task about the candidate, through the API."""
    response = acme.post_event(stage_changed(application={"id": application_id}, candidate=candidate, **extra))
    assert response.status_code == 202, response.get_json()


def assert_completed_for(acme, reason):
    tasks = acme.tasks()
    assert tasks and all(t["status"] == "completed" for t in tasks), tasks
    for task in tasks:
        assert Task.get_by_id(task["id"]).completion_reason == f"{ERASED} ({reason})"
        assert f"{ERASED} ({reason})" in history_notes(task["id"])
        assert PLACEHOLDER in task["title"]


@pytest.fixture
def acme(make_account, connect):
    handle = make_account("Acme")
    for provider in ("greenhouse", "ashby"):
        connect(handle, provider)
    connect(handle, "lever", secret=f"another-events-token, {SECRET}")
    return handle


# -- Greenhouse ------------------------------------------------------------------------------------

JACK = {"id": "37031511", "name": "Jack Sparrow", "email": "jack.sparrow@pirates.example"}


def test_a_candidate_deleted_in_greenhouse_is_erased_and_their_tasks_complete(client, acme, run_worker, settings):
    for application_id in ("46196263", "46196258"):  # the documented candidate's two applications
        open_task(acme, JACK, application_id)
    run_worker()
    assert [t["status"] for t in acme.tasks()] == ["open", "open"]
    post_greenhouse(client, acme.account, greenhouse_fixture("delete_candidate"), event_id="deleted")
    personal = ("Jack Sparrow", "jack.sparrow@pirates.example", "Pirate Shipping", "Eager to find a new commission")
    assert leftovers(settings, *personal) == list(personal)

    run_worker()
    assert_completed_for(acme, "deleted in Greenhouse")
    assert leftovers(settings, *personal, "Sparrow") == []
    candidate = Candidate.get(Candidate.external_id == "37031511")
    assert (candidate.name, candidate.email, candidate.erased_at is not None) == (PLACEHOLDER, None, True)


def test_a_candidate_anonymised_in_greenhouse_is_erased_and_their_tasks_complete(client, acme, run_worker, settings):
    open_task(acme, JACK, "46196263")
    run_worker()
    post_greenhouse(client, acme.account, greenhouse_fixture("candidate_anonymized"), event_id="anonymised")
    run_worker()
    assert_completed_for(acme, "anonymised in Greenhouse")
    assert leftovers(settings, "Jack Sparrow", "jack.sparrow@pirates.example") == []


def test_a_candidate_merged_away_in_greenhouse_is_erased_and_their_tasks_follow_the_survivor(
    client, acme, run_worker, settings
):
    # The survivor is the same person, with another e-mail address than the merged-away record.
    survivor = {"id": "457456", "name": "Jack Sparrow", "email": "captain.jack@pirates.example"}
    open_task(acme, survivor, "app-survivor")
    open_task(acme, dict(JACK, email="jack.old@pirates.example"), "app-merged-away")
    run_worker()
    post_greenhouse(client, acme.account, greenhouse_fixture("merge_candidate"), event_id="merged")
    run_worker()

    tasks = acme.tasks()
    assert [t["status"] for t in tasks] == ["open", "open"]
    for task in tasks:
        assert Task.get_by_id(task["id"]).subjects["candidate"]["id"] == "457456"
        assert task["title"] == "Jack Sparrow — Onsite"
    assert leftovers(settings, "jack.old@pirates.example") == []
    assert leftovers(settings, "Jack Sparrow", "captain.jack@pirates.example") == [
        "Jack Sparrow",
        "captain.jack@pirates.example",
    ]
    assert Candidate.get(Candidate.external_id == "37031511").name == PLACEHOLDER


# -- Lever -----------------------------------------------------------------------------------------

OPPORTUNITY = "250d8f03-738a-4bba-a671-8a3d73477145"
CONTACT = "7f23e772-a4a8-4f3b-8d41-8d6a12d6a2f1"


def test_a_candidate_deleted_in_lever_is_erased_and_their_tasks_complete(client, acme, run_worker, settings):
    odile = {"id": CONTACT, "name": "Odile Varga", "email": "odile.varga@example.net"}
    open_task(acme, odile, OPPORTUNITY)
    run_worker()
    assert post_lever(client, acme.account, lever_signed("candidateDeleted")).status_code == 200
    run_worker()
    assert_completed_for(acme, "deleted in Lever")
    assert leftovers(settings, "Odile Varga", "odile.varga@example.net") == []


# -- Ashby -----------------------------------------------------------------------------------------

TECHNICAL = "c3a1f9d2-5b7e-4d8a-9f0c-1e2d3c4b5a69"
RENEE = ("Renée Okafor", "renee.okafor@example.com", "222-222-3344")


def _renee_in_a_scheduling_stage(client, acme, run_worker, settings):
    Stage.create(account=acme.account, external_id=TECHNICAL, name="Technical Interview", scheduling_enabled=True)
    assert post_ashby(client, acme.account, ashby_raw("candidateStageChange")).status_code == 200
    run_worker()
    [task] = acme.tasks()
    assert task["title"] == "Renée Okafor — Technical Interview"
    assert leftovers(settings, *RENEE) == list(RENEE)


def test_a_candidate_deleted_in_ashby_is_erased_and_their_tasks_complete(client, acme, run_worker, settings):
    _renee_in_a_scheduling_stage(client, acme, run_worker, settings)
    assert post_ashby(client, acme.account, ashby_raw("candidateDelete")).status_code == 200
    run_worker()
    assert_completed_for(acme, "deleted in Ashby")
    assert leftovers(settings, *RENEE) == []


def test_a_candidate_merged_away_in_ashby_is_erased_and_their_tasks_follow_the_merged_one(
    client, acme, run_worker, settings
):
    _renee_in_a_scheduling_stage(client, acme, run_worker, settings)  # the merged (surviving) candidate
    deleted = {"id": "11111111-2222-4333-8444-555555555555", "name": "Renee Okafor", "email": "r.okafor@old.example"}
    open_task(acme, deleted, "app-deleted-candidate")
    run_worker()
    assert post_ashby(client, acme.account, ashby_raw("candidateMerge")).status_code == 200
    run_worker()

    tasks = acme.tasks()
    assert [t["status"] for t in tasks] == ["open", "open"]
    assert {Task.get_by_id(t["id"]).subjects["candidate"]["id"] for t in tasks} == {
        "f9e52a51-a075-4116-a7b8-484deba69004"
    }
    # The merged-away record's name spelt otherwise takes the survivor's; its e-mail goes.
    assert leftovers(settings, "Renee Okafor", "r.okafor@old.example") == []
    assert sorted(t["title"] for t in tasks) == ["Renée Okafor — Onsite", "Renée Okafor — Technical Interview"]


# -- the API ---------------------------------------------------------------------------------------

MARISOL = {"id": "cand-erase-1", "name": "Marisol Quennell", "email": "marisol.q@example.org"}


def test_candidate_erased_posted_to_the_api_completes_tasks_and_leaves_no_personal_data(acme, run_worker, settings):
    open_task(acme, MARISOL, "app-erase-1")
    declined = envelope(
        "attendee.responded",
        schedule={"id": "sched-erase-1"},
        application={"id": "app-erase-1"},
        candidate=MARISOL,
        job=JOB,
        stage=ONSITE,
        attendee={"email": MARISOL["email"], "name": MARISOL["name"], "kind": "candidate"},
        response="declined",
    )
    assert acme.post_event(declined).status_code == 202
    run_worker()
    assert sorted(t["category"] for t in acme.tasks(status="open")) == ["Candidate Declined", "Ready to Schedule"]
    assert leftovers(settings, "Marisol Quennell", "marisol.q@example.org") == [
        "Marisol Quennell",
        "marisol.q@example.org",
    ]

    erased = envelope(
        "candidate.erased", 60, candidate={"id": MARISOL["id"], "name": MARISOL["name"]}, reason="at their request"
    )
    assert acme.post_event(erased).status_code == 202
    run_worker()
    assert_completed_for(acme, "at their request")
    assert leftovers(settings, "Marisol Quennell", "marisol.q@example.org", "Quennell") == []

    # A later event about the erased candidate, naming them, does not bring them back.
    open_task(acme, MARISOL, "app-erase-2", minutes=120)
    run_worker()
    [task] = acme.tasks(status="open")
    assert task["title"] == f"{PLACEHOLDER} — Onsite"
    candidate = Candidate.get(Candidate.external_id == MARISOL["id"])
    assert (candidate.name, candidate.email) == (PLACEHOLDER, None)


def test_tasks_opened_and_erased_in_one_batch_leave_no_personal_data(acme, run_worker, settings):
    """The worker writes a batch's task history at its end; an erasure in the same batch as the
    events that opened the candidate's tasks scrubs those too."""
    candidate = {"id": "cand-erase-3", "name": "Ottoline Varga", "email": "ottoline.v@example.org"}
    open_task(acme, candidate, "app-erase-3")
    erased = envelope("candidate.erased", 60, candidate={"id": candidate["id"]}, reason="at their request")
    assert acme.post_event(erased).status_code == 202
    run_worker()
    assert_completed_for(acme, "at their request")
    assert leftovers(settings, "Ottoline Varga", "ottoline.v@example.org", "Varga") == []
