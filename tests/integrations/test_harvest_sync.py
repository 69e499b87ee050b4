"""The Harvest sync against Greenhouse's documented Harvest responses, behind a fake transport:
baseline, new and vanished stages and interviews, coordinators, pagination, 401/403 and 429."""

import base64
import copy
import json
from urllib.parse import parse_qs, urlparse

import pytest

from webapp.integrations.sync import enqueue_due_syncs, run_sync
from webapp.models import Event, Integration, Interview, Job, Stage

from .conftest import harvest_fixture

API_KEY = "harvest-test-key"
BASE = "https://harvest.greenhouse.io/v1"


class FakeHarvest:
    """Serves canned Harvest answers by path and page, and records every request."""

    def __init__(self):
        self.routes = {}
        self.calls = []
        # What an account answers before a test serves otherwise: nothing scheduled yet.
        self.defaults = {("/scheduled_interviews", "1"): []}

    def serve(self, path, body, page=1, status=200, headers=None, times=None):
        """Answer GET path (and ?page=) with body; `times` answers that many times before the next one queued."""
        answers = self.routes.setdefault((path, str(page)), [])
        answers.append([status, dict(headers or {}), json.dumps(body).encode(), times])

    def __call__(self, method, url, headers):
        self.calls.append((method, url, headers))
        parsed = urlparse(url)
        path = parsed.path.removeprefix("/v1")
        page = parse_qs(parsed.query).get("page", ["1"])[0]
        answers = self.routes.get((path, page))
        if not answers and (path, page) in self.defaults:
            return 200, {}, json.dumps(self.defaults[(path, page)]).encode()
        if not answers:
            return 404, {}, b'{"message": "Resource not found"}'
        status, answer_headers, body, times = answers[0]
        if times is not None:
            answers[0][3] -= 1
            if answers[0][3] <= 0 and len(answers) > 1:
                answers.pop(0)
        return status, answer_headers, body


def open_job(job_id=146218, coordinator_id=122635, name="Archaeologist"):
    """Harvest's documented job, opened, with its id and responsible coordinator set for the test."""
    job = copy.deepcopy(harvest_fixture("get_list_jobs")[0])
    job.update(id=job_id, name=name, status="open", closed_at=None)
    for member in job["hiring_team"]["coordinators"]:
        member["responsible"] = member["id"] == coordinator_id
    return job


def stages(drop=(), add=None):
    """Harvest's documented stages of a job, minus some stage ids, plus extra stages."""
    listing = [s for s in copy.deepcopy(harvest_fixture("get_list_job_stages_for_job")) if s["id"] not in drop]
    return listing + (add or [])


def user(user_id, email, name):
    body = copy.deepcopy(harvest_fixture("get_retrieve_user"))
    body.update(id=user_id, primary_email_address=email, name=name, emails=[email])
    return body


NEW_STAGE = {
    "id": 80001,
    "name": "Take-home Exercise",
    "job_id": 146218,
    "priority": 3,
    "interviews": [{"id": 9001, "name": "Exercise Review", "schedulable": True, "estimated_minutes": 45}],
}


@pytest.fixture
def acme(make_account, connect):
    handle = make_account("Acme")
    handle.integration = connect(handle, "greenhouse", api_key=API_KEY)
    return handle


def sync(acme):
    return run_sync(acme.integration.id)


def test_first_sync_puts_stages_in_the_mirror_without_tasks(harvest, acme, drain):
    harvest.serve("/jobs", [open_job()])
    harvest.serve("/jobs/146218/stages", stages())
    summary = sync(acme)
    assert summary == {"status": "ok", "jobs": 1, "events": []}
    job = Job.get(Job.external_id == "146218")
    assert job.coordinator.email == "teddy.pizzazz@acme.test"
    assert {s.external_id for s in job.stages} == {"72200", "72199", "72194"}
    assert Interview.get(Interview.external_id == "6002").stage.external_id == "72200"
    assert Interview.get(Interview.external_id == "6002").duration_minutes == 60
    drain()
    assert acme.tasks() == []
    # Harvest's HTTP Basic auth: the API key as user name, an empty password.
    _, _, headers = harvest.calls[0]
    assert headers["Authorization"] == "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()
    assert Integration.get_by_id(acme.integration.id).last_synced_at is not None


def test_a_stage_added_to_a_job_opens_new_stage_and_new_interview_tasks_for_the_job_coordinator(harvest, acme, drain):
    harvest.serve("/jobs", [open_job()])
    harvest.serve("/jobs/146218/stages", stages(), times=1)
    harvest.serve("/jobs/146218/stages", stages(add=[NEW_STAGE]))
    sync(acme)
    summary = sync(acme)
    assert summary["events"] == ["stage.created", "interview.created"]
    drain()
    tasks = sorted(acme.tasks(), key=lambda t: t["category"])
    assert [(t["category"], t["title"]) for t in tasks] == [
        ("New Interview", "New interview: Exercise Review (Archaeologist)"),
        ("New Stage", "New stage: Take-home Exercise (Archaeologist)"),
    ]
    assert {t["assignee"]["email"] for t in tasks} == {"teddy.pizzazz@acme.test"}
    # A third sync with nothing new raises nothing more.
    assert sync(acme)["events"] == []


def test_a_stage_that_disappears_raises_stage_deleted_and_completes_its_task(harvest, acme, drain):
    harvest.serve("/jobs", [open_job()])
    harvest.serve("/jobs/146218/stages", stages(), times=1)
    harvest.serve("/jobs/146218/stages", stages(add=[NEW_STAGE]), times=1)
    harvest.serve("/jobs/146218/stages", stages(drop=[72199]))
    sync(acme)
    sync(acme)
    drain()
    summary = sync(acme)
    assert sorted(summary["events"]) == ["interview.deleted", "stage.deleted", "stage.deleted"]  # with its interview
    drain()
    assert {t["category"]: t["status"] for t in acme.tasks()} == {
        "New Stage": "completed",
        "New Interview": "completed",
    }
    assert Stage.get(Stage.external_id == "72199").deleted
    assert Stage.get(Stage.external_id == "80001").deleted


def test_an_interview_added_to_an_existing_stage_opens_a_new_interview_task(harvest, acme, drain):
    with_interview = stages()
    with_interview[1]["interviews"] = [{"id": 6100, "name": "Offer Call", "estimated_minutes": 30}]
    harvest.serve("/jobs", [open_job()])
    harvest.serve("/jobs/146218/stages", stages(), times=1)
    harvest.serve("/jobs/146218/stages", with_interview)
    sync(acme)
    assert sync(acme)["events"] == ["interview.created"]
    drain()
    [task] = acme.tasks()
    assert task["title"] == "New interview: Offer Call (Archaeologist)"
    assert Interview.get(Interview.external_id == "6100").stage.external_id == "72199"


def test_jobs_are_listed_page_by_page_as_the_link_header_says(harvest, acme):
    second = open_job(job_id=146300, coordinator_id=177046, name="Geologist")
    next_page = f'<{BASE}/jobs?page=2&per_page=100&status=open>; rel="next", <{BASE}/jobs?page=2>; rel="last"'
    harvest.serve("/jobs", [open_job()], headers={"Link": next_page})
    harvest.serve("/jobs", [second], page=2, headers={"Link": f'<{BASE}/jobs?page=1>; rel="prev"'})
    harvest.serve("/jobs/146218/stages", stages())
    harvest.serve("/jobs/146300/stages", stages())
    harvest.serve("/users/177046", user(177046, "mirandella.lager@acme.test", "Mirandella Lager"))
    assert sync(acme)["jobs"] == 2
    assert Job.get(Job.external_id == "146300").coordinator.email == "mirandella.lager@acme.test"
    job_urls = [url for method, url, _ in harvest.calls if urlparse(str(url)).path == "/v1/jobs"]
    assert len(job_urls) == 2 and "page=2" in job_urls[1]


def test_closed_jobs_are_not_synced(harvest, acme):
    harvest.serve("/jobs", harvest_fixture("get_list_jobs"))  # the documented job is closed
    assert sync(acme)["jobs"] == 0
    assert Job.select().count() == 0


def test_rate_limit_waits_as_retry_after_says_then_carries_on(harvest, acme):
    harvest.serve("/jobs", {"message": "Too many requests"}, status=429, headers={"Retry-After": "7"}, times=1)
    harvest.serve("/jobs", [open_job()])
    harvest.serve("/jobs/146218/stages", stages())
    assert sync(acme)["status"] == "ok"
    assert ("SLEEP", 7.0, None) in harvest.calls


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_api_key_opens_one_broken_integration_task_until_a_sync_succeeds(harvest, acme, drain, status):
    harvest.serve("/jobs", {"message": "Invalid Basic Auth credentials"}, status=status, times=2)
    harvest.serve("/jobs", [open_job()])
    harvest.serve("/jobs/146218/stages", stages())

    assert sync(acme) == {"status": "failing", "events": ["integration.failed"]}
    assert sync(acme) == {"status": "failing", "events": []}  # still down: no second failure event
    drain()
    [task] = acme.tasks()
    assert task["category"] == "Broken Integration" and task["status"] == "open"
    assert task["assignee"]["email"] == acme.user.email  # the account's creator
    assert str(status) in task["recommended_action"]
    assert Integration.get_by_id(acme.integration.id).status == "failing"

    assert sync(acme)["events"] == ["integration.restored"]
    drain()
    [task] = acme.tasks()
    assert task["status"] == "completed"
    assert Integration.get_by_id(acme.integration.id).status == "ok"
    assert Event.select().where(Event.type == "integration.failed").count() == 1


def test_a_key_refused_the_users_endpoint_is_a_broken_integration_too(harvest, acme, drain):
    harvest.routes.clear()  # no cached coordinator and no permission to read users
    harvest.serve("/users/122635", {"message": "This API key does not have permission"}, status=403)
    harvest.serve("/jobs", [open_job()])
    harvest.serve("/jobs/146218/stages", stages())
    assert sync(acme) == {"status": "failing", "events": ["integration.failed"]}
    drain()
    [task] = acme.tasks()
    assert task["category"] == "Broken Integration" and "403" in task["recommended_action"]


def test_a_second_outage_opens_a_new_task(harvest, acme, drain):
    harvest.serve("/jobs", {"message": "no"}, status=401, times=1)
    harvest.serve("/jobs", [], times=1)
    harvest.serve("/jobs", {"message": "no"}, status=401)
    for _ in range(3):
        sync(acme)
        drain()
    assert sorted(t["status"] for t in acme.tasks()) == ["completed", "open"]


def test_the_worker_job_syncs_by_integration_id(harvest, acme):
    from worker.jobs import sync_integration

    harvest.serve("/jobs", [open_job()])
    harvest.serve("/jobs/146218/stages", stages())
    assert sync_integration(acme.integration.id)["jobs"] == 1


def test_due_syncs_are_queued_once_per_interval(app, acme, make_account, connect):
    from webapp.queue import get_queue

    other = make_account("Initech")
    connect(other, "greenhouse")  # no API key: nothing to sync
    assert enqueue_due_syncs() == [acme.integration.id]
    assert enqueue_due_syncs() == []  # not due again until the interval has passed
    jobs = get_queue().jobs
    assert [(j.func_name, j.args) for j in jobs] == [("worker.jobs.sync_integration", (acme.integration.id,))]


class Unreachable:
    """A transport to a Greenhouse that does not answer: the connection times out."""

    def __init__(self, then):
        self.then = then
        self.down = True

    def __call__(self, method, url, headers):
        if self.down:
            raise TimeoutError("timed out")
        return self.then(method, url, headers)


@pytest.mark.parametrize("outage", ["time-out", "server error"])
def test_an_ats_that_stops_answering_opens_one_broken_integration_task_until_it_answers(
    harvest, acme, drain, app, outage
):
    from webapp.integrations.harvest import HarvestUnavailable
    from webapp.integrations.sync import UNANSWERED_SYNCS_BEFORE_FAILED

    harvest.serve("/jobs", [open_job()])
    harvest.serve("/jobs/146218/stages", stages())
    if outage == "time-out":
        transport = Unreachable(then=app.config["HARVEST_TRANSPORT"])
        app.config["HARVEST_TRANSPORT"] = transport
    else:
        harvest.routes[("/jobs", "1")].insert(
            0, [502, {}, b'{"message": "Bad Gateway"}', UNANSWERED_SYNCS_BEFORE_FAILED]
        )

    for _ in range(UNANSWERED_SYNCS_BEFORE_FAILED - 1):  # a blip is not yet an outage
        with pytest.raises(HarvestUnavailable):
            sync(acme)
    drain()
    assert acme.tasks() == []
    assert sync(acme) == {"status": "failing", "events": ["integration.failed"]}
    drain()
    [task] = acme.tasks()
    assert task["category"] == "Broken Integration"
    assert "has not answered" in task["recommended_action"]

    if outage == "time-out":
        transport.down = False
    assert sync(acme)["events"] == ["integration.restored"]
    drain()
    assert [t["status"] for t in acme.tasks()] == ["completed"]
    assert (Integration.get_by_id(acme.integration.id).state or {}).get("unanswered") == 0
