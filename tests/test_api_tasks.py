"""GET /api/tasks and completing or reopening by API, and that no account reaches another's tasks."""

import pytest

from tests import events as ev
from tests.helpers import sign_in
from webapp.models import Task, TaskHistory
from webapp.pipeline import drain


@pytest.fixture
def acme_with_tasks(make_account, app):
    acme = make_account("Acme")
    acme.post_event(ev.stage_changed())  # Ready to Schedule for Pat (the candidate's coordinator)
    acme.post_event(ev.job_event("created"))  # New Job for Jo (the job's coordinator)
    acme.post_event(ev.integration_event("failed"))  # Broken Integration for the creator
    drain()
    return acme


def test_tasks_default_to_my_open_tasks(acme_with_tasks):
    mine = acme_with_tasks.get("/api/tasks").get_json()["tasks"]
    assert [t["rule"] for t in mine] == ["broken_integration"]
    task = mine[0]
    assert task["assignee"] == {"email": acme_with_tasks.user.email, "name": acme_with_tasks.user.name}
    assert task["priority"] == "urgent" and task["status"] == "open"
    assert task["about"]["integration"]["id"] == ev.INTEGRATION["id"]
    assert set(task) >= {
        "id",
        "rule",
        "category",
        "title",
        "recommended_action",
        "assignee",
        "priority",
        "status",
        "created_at",
        "completed_at",
        "completed_by",
        "about",
    }


def test_tasks_of_a_colleague_by_email_and_by_category(acme_with_tasks):
    pats = acme_with_tasks.get("/api/tasks", query_string={"assignee": ev.PAT["email"]}).get_json()["tasks"]
    assert [t["rule"] for t in pats] == ["ready_to_schedule"]
    assert pats[0]["title"] == "Jordan Lee — Onsite"
    new_jobs = acme_with_tasks.tasks(status="open", category="new_job")
    assert [t["assignee"]["email"] for t in new_jobs] == [ev.JO["email"]]


def test_tasks_ordered_by_priority_then_age(acme_with_tasks):
    rules = [t["rule"] for t in acme_with_tasks.tasks(status="open")]
    assert rules == ["broken_integration", "ready_to_schedule", "new_job"]


def test_bad_parameters_are_400_or_404(acme_with_tasks):
    assert acme_with_tasks.get("/api/tasks", query_string={"status": "later"}).status_code == 400
    assert acme_with_tasks.get("/api/tasks", query_string={"assignee": "nobody@x.test"}).status_code == 404


def test_complete_and_reopen_by_api_are_recorded(acme_with_tasks):
    task = acme_with_tasks.get("/api/tasks").get_json()["tasks"][0]
    done = acme_with_tasks.post(f"/api/tasks/{task['id']}/complete").get_json()
    assert done["status"] == "completed"
    assert done["completed_by"]["kind"] == "user" and done["completed_by"]["email"] == acme_with_tasks.user.email
    assert acme_with_tasks.tasks(status="completed")[0]["id"] == task["id"]
    reopened = acme_with_tasks.post(f"/api/tasks/{task['id']}/reopen").get_json()
    assert reopened["status"] == "open" and reopened["completed_by"] is None
    kinds = [h.kind for h in TaskHistory.select().where(TaskHistory.task == task["id"]).order_by(TaskHistory.id)]
    assert kinds == ["opened", "completed", "reopened"]


def test_completing_a_colleagues_task_records_on_whose_behalf(acme_with_tasks):
    pats = acme_with_tasks.get("/api/tasks", query_string={"assignee": ev.PAT["email"]}).get_json()["tasks"]
    acme_with_tasks.post(f"/api/tasks/{pats[0]['id']}/complete")
    task = Task.get_by_id(pats[0]["id"])
    assert task.completed_by_user.email == acme_with_tasks.user.email
    assert task.completed_on_behalf_of.email == ev.PAT["email"]


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/tasks/{id}"),
        ("post", "/api/tasks/{id}/complete"),
        ("post", "/api/tasks/{id}/reopen"),
    ],
)
def test_another_accounts_task_is_not_found_and_unchanged(acme_with_tasks, make_account, method, path):
    globex = make_account("Globex")
    task = Task.select().where(Task.account == acme_with_tasks.account).first()
    status_before = task.status
    response = getattr(globex, method)(path.format(id=task.id))
    assert response.status_code == 404
    assert Task.get_by_id(task.id).status == status_before


def test_listing_never_shows_another_accounts_tasks(acme_with_tasks, make_account):
    globex = make_account("Globex")
    assert globex.tasks() == []
    assert globex.get("/api/tasks", query_string={"assignee": ev.PAT["email"]}).status_code == 404


def test_events_of_one_account_never_touch_anothers_tasks(acme_with_tasks, make_account):
    globex = make_account("Globex")
    # The same ATS ids in another account: a schedule there must not complete Acme's task.
    globex.post_event(ev.schedule_event("created", minutes=5))
    drain()
    acme_open = [t["rule"] for t in acme_with_tasks.tasks(status="open")]
    assert "ready_to_schedule" in acme_open


@pytest.mark.parametrize("path", ["/api/tasks", "/api/tasks/1", "/api/tasks/1/complete", "/api/tasks/1/reopen"])
def test_task_routes_need_a_token(client, path):
    method = client.post if path.endswith(("complete", "reopen")) else client.get
    response = method(path)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_session_cookie_does_not_authenticate_the_api(acme_with_tasks, client):
    """The API is exempt from CSRF, so a signed-in browser session must not be enough."""
    sign_in(client, acme_with_tasks.user.email)
    assert client.get("/tasks").status_code == 200  # signed in for pages
    assert client.get("/api/tasks").status_code == 401
    task = Task.select().first()
    assert client.post(f"/api/tasks/{task.id}/complete").status_code == 401
    assert Task.get_by_id(task.id).status == "open"


def test_health_reports_services_and_with_a_token_the_inbox(acme_with_tasks, client):
    public = client.get("/api/health").get_json()
    assert public["database"] == "ok" and public["redis"] == "ok"
    assert "inbox" not in public
    mine = acme_with_tasks.get("/api/health").get_json()
    assert mine["inbox"] == {"pending": 0, "failed": 0}
