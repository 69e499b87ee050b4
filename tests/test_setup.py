"""Setting jobs up in Docket: the job's defaults, a stage's decision, interview templates and rooms;
each completes the New Job, New Stage or New Interview task that links to it, naming who did it."""

import re
from urllib.parse import urlsplit

import pytest

from tests import events as ev
from tests.helpers import HTMX, process, sign_in
from webapp.models import Event, Interview, InterviewTemplate, Job, JobDefaults, Room, Stage, Task, User
from webapp.pipeline import drain
from webapp.views import links


@pytest.fixture
def acme(make_account, client):
    """Acme with a new job, a new stage and a new interview, each with its task; Casey signed in."""
    handle = make_account("Acme")
    handle.dana = User.for_email(handle.account, "dana.wu@acme.test", "Dana Wu")
    handle.room = Room.create(account=handle.account, name="Room 4A", email="room-4a@resource.acme.test")
    process(handle, ev.job_event("created"), ev.stage_event("created", 1), ev.interview_event("created", 2))
    handle.csrf = sign_in(client, handle.user.email)
    return handle


def task_of(rule):
    return Task.get(Task.rule_id == rule)


def action_url(app, account, task):
    with app.test_request_context():
        return links.action_urls(account.id, [task]).get(task.id)


@pytest.mark.parametrize(
    "rule, path",
    [
        ("new_job", "/setup/jobs/job-1"),
        ("new_stage", "/setup/stages/stage-onsite"),
        ("new_interview", "/setup/interviews/int-1"),
        ("broken_integration", "/admin/integrations#calendar-google"),
    ],
)
def test_setup_tasks_link_straight_to_their_form(app, acme, rule, path):
    if rule == "broken_integration":
        process(acme, ev.integration_event("failed", 3))
    task = task_of(rule)
    url = action_url(app, acme.account, task)
    expected = path if rule == "broken_integration" else f"{path}?task={task.id}"
    assert url == expected


@pytest.mark.parametrize(
    "path, heading",
    [
        ("/setup/jobs/job-1", "Set up Senior Backend Engineer"),
        ("/setup/stages/stage-onsite", "Set up the Onsite stage of Senior Backend Engineer"),
        ("/setup/interviews/int-1", "Interview template: System Design"),
        ("/setup/rooms", "Add a room"),
    ],
)
def test_setup_pages_are_pages_or_their_form_for_htmx(client, acme, path, heading):
    page = client.get(path)
    assert page.status_code == 200 and heading in page.get_data(as_text=True)
    assert "<!doctype html>" in page.get_data(as_text=True).lower()
    assert "HX-Request" in page.headers["Vary"]
    fragment = client.get(path, headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith("<form") and heading in fragment and "<body" not in fragment


def test_setting_up_a_job_saves_its_defaults_and_completes_new_job(client, acme):
    task = task_of("new_job")
    response = client.post(
        f"/setup/jobs/job-1?task={task.id}",
        data={
            "csrf_token": acme.csrf,
            "scheduling_enabled": "1",
            "duration_minutes": "45",
            "interviewers": [str(acme.dana.id)],
        },
    )
    assert response.status_code == 303 and urlsplit(response.headers["Location"]).path == "/tasks"  # back on the list
    job = Job.get(Job.external_id == "job-1")
    assert job.scheduling_enabled and job.configured
    defaults = JobDefaults.get(JobDefaults.job == job)
    assert defaults.duration_minutes == 45 and defaults.interviewer_ids == [acme.dana.id]
    assert defaults.updated_by_id == acme.user.id
    drain()
    task = Task.get_by_id(task.id)
    assert task.status == "completed"
    assert task.completion_reason == "Casey Coordinator set up Senior Backend Engineer"
    payload = Event.get(Event.type == "job.configured").payload
    assert payload["source"] == "docket" and payload["data"]["actor"]["email"] == acme.user.email


def test_a_job_with_a_bad_length_is_not_saved_and_the_error_is_beside_the_field(client, acme):
    for headers in ({}, HTMX):
        response = client.post(
            "/setup/jobs/job-1", data={"csrf_token": acme.csrf, "duration_minutes": "0"}, headers=headers
        )
        html = response.get_data(as_text=True)
        assert response.status_code == (200 if headers else 422)
        assert 'id="duration_minutes-error">Enter a length between 5 and 480 minutes.' in html
    assert not Job.get(Job.external_id == "job-1").configured
    assert Event.select().where(Event.type == "job.configured").count() == 0


def test_setting_up_a_job_with_htmx_redirects(client, acme):
    response = client.post("/setup/jobs/job-1", data={"csrf_token": acme.csrf, "duration_minutes": "60"}, headers=HTMX)
    assert response.status_code == 204 and response.headers["HX-Redirect"].endswith("/tasks")
    assert not Job.get(Job.external_id == "job-1").scheduling_enabled


@pytest.mark.parametrize("choice, enabled, words", [("enabled", True, "enabled"), ("declined", False, "declined")])
def test_enabling_or_declining_a_stage_completes_new_stage(client, acme, choice, enabled, words):
    task = task_of("new_stage")
    response = client.post(
        f"/setup/stages/stage-onsite?task={task.id}", data={"csrf_token": acme.csrf, "scheduling": choice}
    )
    assert response.status_code == 303
    stage = Stage.get(Stage.external_id == "stage-onsite")
    assert stage.configured and stage.scheduling_enabled is enabled
    drain()
    assert Task.get_by_id(task.id).completion_reason == f"Casey Coordinator {words} scheduling for Onsite"


def test_a_stage_without_a_choice_is_not_saved(client, acme):
    response = client.post("/setup/stages/stage-onsite", data={"csrf_token": acme.csrf})
    assert response.status_code == 422
    assert "Choose whether Docket schedules this stage." in response.get_data(as_text=True)
    assert not Stage.get(Stage.external_id == "stage-onsite").configured


def test_adding_an_interview_template_completes_new_interview(client, acme):
    task = task_of("new_interview")
    response = client.post(
        f"/setup/interviews/int-1?task={task.id}",
        data={
            "csrf_token": acme.csrf,
            "duration_minutes": "90",
            "interviewers": [str(acme.dana.id)],
            "needs_room": "1",
            "room": str(acme.room.id),
        },
    )
    assert response.status_code == 303
    template = InterviewTemplate.get()
    assert (template.duration_minutes, template.interviewer_ids, template.needs_room, template.room_id) == (
        90,
        [acme.dana.id],
        True,
        acme.room.id,
    )
    assert Interview.get(Interview.external_id == "int-1").has_template
    drain()
    assert (
        Task.get_by_id(task.id).completion_reason == "Casey Coordinator added an interview template for System Design"
    )


def test_an_interview_template_needs_an_interviewer(client, acme):
    response = client.post("/setup/interviews/int-1", data={"csrf_token": acme.csrf, "duration_minutes": "60"})
    assert response.status_code == 422
    assert 'id="interviewers-error">Choose at least one interviewer.' in response.get_data(as_text=True)
    assert InterviewTemplate.select().count() == 0


def test_the_template_prefills_the_schedule_form(client, acme):
    client.post(
        "/setup/interviews/int-1",
        data={
            "csrf_token": acme.csrf,
            "duration_minutes": "90",
            "interviewers": [str(acme.dana.id)],
            "room": str(acme.room.id),
        },
    )
    process(acme, ev.stage_changed(minutes=5))
    html = client.get("/schedules/new?application=app-1&stage=stage-onsite").get_data(as_text=True)
    assert 'name="interviews-0-name" value="System Design"' in html
    assert re.search(rf'<option value="{acme.dana.id}" selected>Dana Wu', html)
    assert re.search(rf'<option value="{acme.room.id}" selected>Room 4A', html)


def test_adding_a_room_and_its_errors(client, acme):
    response = client.post(
        "/setup/rooms", data={"csrf_token": acme.csrf, "name": "Room 5B", "email": "room-5b@resource.acme.test"}
    )
    assert response.status_code == 303
    assert Room.select().count() == 2
    again = client.post(
        "/setup/rooms",
        data={"csrf_token": acme.csrf, "name": "Again", "email": "ROOM-5B@resource.acme.test"},
        headers=HTMX,
    )
    assert again.status_code == 200 and "already exists" in again.get_data(as_text=True)
    bad = client.post("/setup/rooms", data={"csrf_token": acme.csrf, "name": "", "email": "nope"})
    assert bad.status_code == 422 and "Name the room." in bad.get_data(as_text=True)
    assert Room.select().count() == 2


def test_another_accounts_jobs_stages_and_interviews_are_not_found(client, acme, make_account):
    other = make_account("Globex")
    client.post("/logout", data={"csrf_token": acme.csrf})
    csrf = sign_in(client, other.user.email)
    for path in ("/setup/jobs/job-1", "/setup/stages/stage-onsite", "/setup/interviews/int-1"):
        assert client.get(path).status_code == 404
        assert (
            client.post(path, data={"csrf_token": csrf, "scheduling": "enabled", "duration_minutes": "30"}).status_code
            == 404
        )
    assert not Job.get(Job.external_id == "job-1").configured


@pytest.mark.parametrize("path", ["/setup/jobs/job-1", "/setup/stages/s", "/setup/interviews/i", "/setup/rooms"])
def test_setup_pages_need_signing_in(app, path):
    response = app.test_client().get(path)
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_a_bad_length_is_marked_beside_its_field_and_the_other_values_are_kept(client, acme):
    response = client.post(
        "/setup/jobs/job-1",
        data={"csrf_token": acme.csrf, "duration_minutes": "forty", "interviewers": [str(acme.dana.id)]},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(
        r'id="duration_minutes"[^>]*value="forty" aria-invalid="true" aria-describedby="duration_minutes-error">\s*'
        r'<p class="field-error" id="duration_minutes-error">Enter a length between 5 and 480 minutes.</p>',
        html,
    )
    assert re.search(rf'<option value="{acme.dana.id}" selected>Dana Wu', html)
    assert not re.search(r'id="scheduling_enabled"[^>]*checked', html)
    assert not Job.get(Job.external_id == "job-1").configured


def test_another_accounts_room_is_marked_beside_the_room_and_the_length_is_kept(client, acme, make_account):
    other = Room.create(account=make_account("Globex").account, name="Globex HQ", email="hq@resource.globex.test")
    response = client.post(
        "/setup/interviews/int-1",
        data={
            "csrf_token": acme.csrf,
            "duration_minutes": "75",
            "interviewers": [str(acme.dana.id)],
            "room": str(other.id),
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="room" name="room" aria-invalid="true" aria-describedby="room-error"' in html
    assert '<p class="field-error" id="room-error">Choose one of the account&#39;s rooms.</p>' in html
    assert 'value="75"' in html and "Globex HQ" not in html
    assert InterviewTemplate.select().count() == 0


def test_a_room_already_added_is_marked_beside_its_e_mail_and_its_name_is_kept(client, acme):
    response = client.post(
        "/setup/rooms", data={"csrf_token": acme.csrf, "name": "Big room", "email": " Room-4A@resource.acme.test "}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Big room"' in html
    assert 'aria-describedby="email-error"' in html
    assert '<p class="field-error" id="email-error">A room with this e-mail address already exists.</p>' in html
    assert Room.select().count() == 1
