"""Lever's API behind a fake transport serving the responses written from Lever's documentation:
the client (Basic auth, paging, 429, refused keys), and webhooks named through it: the candidate's
real name, the owner as coordinator, the posting as the job, cached users and stages, a refused
key as one Broken Integration task, and a Lever that does not answer."""

import base64
import copy
import json
from urllib.parse import parse_qs, urlparse

import pytest

from webapp.integrations.lever_api import LeverAuthError, LeverClient, LeverError, LeverUnavailable
from webapp.models import Application, Candidate, Event, Integration, Job, Schedule, Stage

from .conftest import PAYLOADS
from .test_lever_webhooks import ONSITE, OPPORTUNITY, post, signed

API = PAYLOADS / "lever" / "api"
API_KEY = "lever-test-key"
OWNER = "8d49b010-cc6a-4f40-ace5-e86061c677ed"
POSTING = "f2f01e16-27f8-4711-a728-7d49499795a0"
CONTACT = "7f23e772-a4a8-4f3b-8d41-8d6a12d6a2f1"


def sample(name):
    return json.loads((API / f"{name}.json").read_text())


class FakeLever:
    """Serves canned Lever answers by path and `offset`, and records every request."""

    def __init__(self):
        self.routes = {}
        self.calls = []
        self.down = False

    def serve(self, path, body, offset=None, status=200, headers=None, times=None):
        """Answer GET path (and ?offset=) with body; `times` answers that many times before the next one queued."""
        answers = self.routes.setdefault((path, offset), [])
        answers.append([status, dict(headers or {}), json.dumps(body).encode(), times])

    def serve_documented(self):
        self.serve(f"/opportunities/{OPPORTUNITY}", sample("opportunity"))
        self.serve(f"/users/{OWNER}", sample("user"))
        self.serve(f"/stages/{ONSITE}", sample("stage"))
        self.serve("/stages/lead-new", sample("stage_lead_new"))
        self.serve(f"/postings/{POSTING}", sample("posting"))

    def __call__(self, method, url, headers):
        self.calls.append((method, url, headers))
        if self.down:
            raise OSError("connection refused")
        parsed = urlparse(url)
        path = parsed.path.removeprefix("/v1")
        offset = parse_qs(parsed.query).get("offset", [None])[0]
        answers = self.routes.get((path, offset))
        if not answers:
            return 404, {}, b'{"code": "ResourceNotFound", "message": "Resource not found"}'
        status, answer_headers, body, times = answers[0]
        if times is not None:
            answers[0][3] -= 1
            if answers[0][3] <= 0 and len(answers) > 1:
                answers.pop(0)
        return status, answer_headers, body

    def paths(self, prefix=""):
        return [urlparse(url).path.removeprefix("/v1") for _, url, _ in self.calls if prefix in url]


@pytest.fixture
def lever(app):
    fake = FakeLever()
    app.config["LEVER_TRANSPORT"] = fake
    app.config["LEVER_SLEEP"] = lambda seconds: fake.calls.append(("SLEEP", seconds, None))
    return fake


@pytest.fixture
def acme(make_account, connect):
    handle = make_account("Acme")
    handle.integration = connect(handle, "lever", api_key=API_KEY)
    Stage.create(account=handle.account, external_id=ONSITE, name="On-site", scheduling_enabled=True)
    return handle


def client_for(fake):
    return LeverClient(API_KEY, transport=fake, sleep=lambda seconds: fake.calls.append(("SLEEP", seconds, None)))


# -- the client ------------------------------------------------------------------------------------


def test_the_client_authenticates_with_the_key_as_basic_user_name_and_unwraps_data():
    fake = FakeLever()
    fake.serve(f"/users/{OWNER}", sample("user"))
    assert client_for(fake).user(OWNER)["email"] == "chandler@exampleq3.com"
    _, url, headers = fake.calls[0]
    assert url == f"https://api.lever.co/v1/users/{OWNER}"
    assert headers["Authorization"] == "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()


def test_lists_are_followed_page_by_page_while_lever_says_has_next():
    fake = FakeLever()
    first = sample("users_page1")
    fake.serve("/users", first)
    fake.serve("/users", sample("users_page2"), offset=first["next"])
    users = list(client_for(fake).paginate("/users"))
    assert [u["name"] for u in users] == ["Chandler Bing", "Rachel Green"]
    queries = [parse_qs(urlparse(url).query) for _, url, _ in fake.calls]
    assert queries == [{"limit": ["100"]}, {"limit": ["100"], "offset": [first["next"]]}]


def test_rate_limit_waits_as_retry_after_says_then_carries_on():
    fake = FakeLever()
    fake.serve(f"/users/{OWNER}", {"code": "TooManyRequests"}, status=429, headers={"Retry-After": "2"}, times=1)
    fake.serve(f"/users/{OWNER}", sample("user"))
    assert client_for(fake).user(OWNER)["name"] == "Chandler Bing"
    assert [c[0] for c in fake.calls] == ["GET", "SLEEP", "GET"] and fake.calls[1][1] == 2.0


def test_rate_limit_without_retry_after_waits_a_second_and_gives_up_after_bounded_retries():
    fake = FakeLever()
    fake.serve(f"/users/{OWNER}", {"code": "TooManyRequests"}, status=429)
    with pytest.raises(LeverError) as raised:
        client_for(fake).user(OWNER)
    assert raised.value.status == 429
    sleeps = [c[1] for c in fake.calls if c[0] == "SLEEP"]
    assert sleeps == [1] * LeverClient.MAX_RETRIES


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_raises_lever_auth_error(status):
    fake = FakeLever()
    fake.serve(f"/users/{OWNER}", {"code": "Unauthorized", "message": "Invalid API key"}, status=status)
    with pytest.raises(LeverAuthError) as raised:
        client_for(fake).user(OWNER)
    assert raised.value.status == status and "Invalid API key" in str(raised.value)


def test_no_answer_or_a_server_error_is_lever_unavailable():
    fake = FakeLever()
    fake.serve(f"/users/{OWNER}", {"message": "down for maintenance"}, status=503)
    with pytest.raises(LeverUnavailable):
        client_for(fake).user(OWNER)
    fake.down = True
    with pytest.raises(LeverUnavailable):
        client_for(fake).user(OWNER)


# -- webhooks named through the API ----------------------------------------------------------------


def test_a_stage_change_with_an_api_key_gives_a_task_with_the_candidates_name_assigned_to_the_owner(
    client, acme, lever, drain
):
    lever.serve_documented()
    post(client, acme.account, signed("candidateStageChange"))
    drain()
    [task] = acme.tasks()
    assert task["category"] == "Ready to Schedule"
    assert task["title"] == "Shane Smith — On-site interview"
    assert task["recommended_action"] == "Schedule Shane Smith for On-site interview (Infrastructure Engineer)"
    assert task["assignee"]["email"] == "chandler@exampleq3.com"
    candidate = Candidate.get(Candidate.external_id == CONTACT)
    assert (candidate.name, candidate.email) == ("Shane Smith", "shane@exampleq3.com")
    assert candidate.coordinator.email == "chandler@exampleq3.com"
    assert candidate.coordinator.name == "Chandler Bing"
    application = Application.get(Application.external_id == OPPORTUNITY)
    assert application.job.external_id == POSTING and application.job.name == "Infrastructure Engineer"
    assert application.job.coordinator.email == "chandler@exampleq3.com"
    assert Stage.get(Stage.external_id == "lead-new").name == "New lead"
    # Looked up before the worker's transaction and kept on the inbox row.
    row = Event.get(Event.type == "candidateStageChange")
    assert row.lookups["candidate"]["name"] == "Shane Smith"
    _, url, _ = lever.calls[0]
    assert parse_qs(urlparse(url).query) == {"expand": ["applications"]}


def test_users_and_stages_are_cached_so_the_next_event_asks_only_for_its_opportunity(client, acme, lever, drain):
    lever.serve_documented()
    post(client, acme.account, signed("candidateStageChange"))
    drain()
    assert lever.paths("/users/") == [f"/users/{OWNER}"]  # the owner of both opportunity and posting: once
    assert sorted(Integration.get_by_id(acme.integration.id).state["users"]) == [OWNER]

    lever.calls.clear()
    post(client, acme.account, signed("candidateStageChange", token="another-delivery-token"))
    drain()
    assert lever.paths() == [f"/opportunities/{OPPORTUNITY}"]
    assert all(t["assignee"]["email"] == "chandler@exampleq3.com" for t in acme.tasks())


def test_the_cache_is_saved_on_a_fresh_copy_of_the_state(client, acme, lever, drain):
    lever.serve_documented()
    acme.integration.state = {"outages": 0}
    acme.integration.save()
    # Saved meanwhile by someone else (the row the worker holds is older).
    Integration.update(state={"outages": 0, "something": "kept"}).where(Integration.id == acme.integration.id).execute()
    post(client, acme.account, signed("candidateStageChange"))
    drain()
    state = Integration.get_by_id(acme.integration.id).state
    assert state["something"] == "kept" and OWNER in state["users"] and ONSITE in state["stages"]


def test_a_refused_key_opens_one_broken_integration_task_and_events_still_use_mirror_names(client, acme, lever, drain):
    lever.serve(f"/opportunities/{OPPORTUNITY}", {"code": "Unauthorized", "message": "Invalid API key"}, status=401)
    post(client, acme.account, signed("candidateStageChange"))
    post(client, acme.account, signed("candidateStageChange", token="another-delivery-token"))
    drain()
    tasks = acme.tasks()
    broken = [t for t in tasks if t["category"] == "Broken Integration"]
    assert len(broken) == 1 and broken[0]["status"] == "open"
    assert "Lever refused the API key (401): Invalid API key" in broken[0]["recommended_action"]
    assert Integration.get_by_id(acme.integration.id).status == Integration.FAILING
    assert all(r.status == Event.PROCESSED for r in Event.select().where(Event.source == "lever"))
    [ready] = [t for t in tasks if t["category"] == "Ready to Schedule"]
    assert ready["title"].endswith("— On-site")

    # A new key that Lever accepts: the next look-up restores the integration.
    lever.routes.clear()
    lever.serve_documented()
    post(client, acme.account, signed("interviewCreated"))
    drain()
    [broken] = [t for t in acme.tasks() if t["category"] == "Broken Integration"]
    assert broken["status"] == "completed"
    assert Integration.get_by_id(acme.integration.id).status == Integration.OK


def test_a_lever_that_does_not_answer_still_processes_the_event_with_mirror_names(client, acme, lever, drain):
    lever.down = True
    post(client, acme.account, signed("candidateStageChange"))
    drain()
    row = Event.get(Event.type == "candidateStageChange")
    assert row.status == Event.PROCESSED and row.lookups is None
    [task] = acme.tasks()
    assert task["category"] == "Ready to Schedule" and task["title"].endswith("— On-site")
    assert Integration.get_by_id(acme.integration.id).status == Integration.OK


def test_a_server_error_from_lever_is_logged_and_the_event_carries_on(client, acme, lever, drain):
    lever.serve(f"/opportunities/{OPPORTUNITY}", {"message": "internal error"}, status=500)
    post(client, acme.account, signed("candidateStageChange"))
    drain()
    assert [t["category"] for t in acme.tasks()] == ["Ready to Schedule"]
    assert acme.tasks()[0]["assignee"]["email"] == acme.user.email  # the account's creator


def test_an_interview_takes_the_opportunitys_stage_when_the_mirror_lacks_it(client, acme, lever, drain):
    lever.serve_documented()
    post(client, acme.account, signed("interviewCreated"))
    drain()
    schedule = Schedule.get(Schedule.external_id == "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e")
    assert schedule.stage.external_id == ONSITE and schedule.stage.name == "On-site interview"
    assert Event.get(Event.type == "interviewCreated").status == Event.PROCESSED


def test_application_created_names_the_job_from_the_posting(client, acme, lever, drain):
    lever.serve_documented()
    post(client, acme.account, signed("applicationCreated"))
    drain()
    job = Job.get(Job.external_id == POSTING)
    assert job.name == "Infrastructure Engineer"
    assert Application.get(Application.external_id == OPPORTUNITY).candidate.name == "Shane Smith"


def test_without_an_api_key_lever_is_not_called(client, make_account, connect, lever, drain):
    handle = make_account("Acme")
    connect(handle, "lever")
    Stage.create(account=handle.account, external_id=ONSITE, name="On-site", scheduling_enabled=True)
    post(client, handle.account, signed("candidateStageChange"))
    drain()
    assert lever.calls == []
    [task] = handle.tasks()
    assert task["title"].endswith("— On-site")


def test_a_stage_without_a_name_in_lever_keeps_the_mirrors(client, acme, lever, drain):
    lever.serve_documented()
    unnamed = copy.deepcopy(sample("stage"))
    unnamed["data"]["text"] = ""
    lever.routes[(f"/stages/{ONSITE}", None)] = []
    lever.serve(f"/stages/{ONSITE}", unnamed)
    post(client, acme.account, signed("candidateStageChange"))
    drain()
    assert acme.tasks()[0]["title"] == "Shane Smith — On-site"


def test_tasks_opened_while_lever_did_not_answer_go_to_the_owner_once_it_does(client, acme, lever, drain):
    lever.down = True
    post(client, acme.account, signed("candidateStageChange"))
    drain()
    [task] = acme.tasks()
    assert task["assignee"]["email"] == acme.user.email

    lever.down = False
    lever.serve_documented()
    post(client, acme.account, signed("interviewUpdated"))
    drain()
    [task] = acme.tasks()
    assert task["assignee"]["email"] == "chandler@exampleq3.com" and task["status"] == "open"


def test_a_key_refused_the_users_endpoint_is_a_broken_integration_too(client, acme, lever, drain):
    lever.serve_documented()
    lever.routes[(f"/users/{OWNER}", None)] = []
    lever.serve(f"/users/{OWNER}", {"code": "Forbidden", "message": "Missing scope users:read:admin"}, status=403)
    post(client, acme.account, signed("candidateStageChange"))
    drain()
    categories = sorted(t["category"] for t in acme.tasks())
    assert categories == ["Broken Integration", "Ready to Schedule"]
    [broken] = [t for t in acme.tasks() if t["category"] == "Broken Integration"]
    assert "403" in broken["recommended_action"]
