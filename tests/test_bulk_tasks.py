"""Bulk actions on the task list: completing or handing over the selected tasks in one POST, each
change in its task's history, one Undo for the batch; CSRF and the account's bounds; the density."""

from urllib.parse import urlsplit

import pytest

from tests import events as ev
from tests.helpers import HTMX, process, sign_in
from webapp.models import Task, TaskHistory, User


@pytest.fixture
def acme(make_account, client):
    """Acme with Casey (signed in, three tasks of his own) and Pat, who has one."""
    handle = make_account("Acme")
    casey = {"email": handle.user.email, "name": "Casey Coordinator"}
    process(
        handle,
        ev.stage_changed(),  # Ready to Schedule, for Pat
        ev.job_event("created", 1, job={**ev.JOB, "coordinator": casey}),
        ev.integration_event("failed", 2),
        ev.stage_changed(
            ev.SCREEN,
            minutes=3,
            application={"id": "app-2"},
            candidate={**ev.CANDIDATE, "id": "c2", "coordinator": casey},
        ),
    )
    handle.csrf = sign_in(client, handle.user.email)
    handle.mine = list(Task.select().where(Task.assignee == handle.user).order_by(Task.id))
    handle.pat = User.get(User.email == ev.PAT["email"])
    assert len(handle.mine) == 3
    return handle


def bulk(client, acme, headers=None, query="", **form):
    return client.post(f"/tasks/bulk{query}", data={"csrf_token": acme.csrf, **form}, headers=headers or {})


def history(task, kind):
    return list(TaskHistory.select().where(TaskHistory.task == task.id, TaskHistory.kind == kind))


def test_completing_the_selected_tasks_records_each_and_one_undo_reopens_them_all(client, acme):
    ids = [str(task.id) for task in acme.mine]
    response = bulk(client, acme, HTMX, action="complete", task=ids)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Completed: <strong>3 tasks</strong>" in html and "0 open tasks<" in html
    assert 'id="undo-batch"' in html and all(f'name="task" value="{i}"' in html for i in ids)
    for task in acme.mine:
        task = Task.get_by_id(task.id)
        assert task.status == "completed" and task.completed_by_user_id == acme.user.id
        assert len(history(task, "completed")) == 1

    undo = bulk(client, acme, HTMX, action="reopen", task=ids)
    assert "Reopened: <strong>3 tasks</strong>" in undo.get_data(as_text=True)
    assert "undo-batch" not in undo.get_data(as_text=True)
    for task in acme.mine:
        assert Task.get_by_id(task.id).status == "open" and len(history(task, "reopened")) == 1


def test_without_javascript_a_bulk_action_redirects_back_with_its_undo(client, acme):
    ids = [str(acme.mine[0].id), str(acme.mine[1].id)]
    response = bulk(client, acme, query="?category=new_job", action="complete", task=ids)
    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert location.path == "/tasks" and "category=new_job" in location.query
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Completed: <strong>2 tasks</strong>" in page and 'id="undo-batch"' in page


def test_handing_over_gives_the_tasks_to_a_colleague_and_undo_gives_them_back(client, acme):
    ids = [str(task.id) for task in acme.mine]
    response = bulk(client, acme, HTMX, action="hand_over", to=ev.PAT["email"], task=ids)
    html = response.get_data(as_text=True)
    assert "Handed to Pat Coordinator: <strong>3 tasks</strong>" in html
    for task in acme.mine:
        assert Task.get_by_id(task.id).assignee_id == acme.pat.id
        (entry,) = history(task, "reassigned")
        assert entry.user_id == acme.user.id and entry.note == "handed to Pat Coordinator (was Casey Coordinator)"
    backs = [f"{task.id}:{acme.user.id}" for task in acme.mine]
    assert all(f'name="back" value="{b}"' in html for b in backs)

    undo = bulk(client, acme, HTMX, action="return", back=backs)
    assert "Handed back: <strong>3 tasks</strong>" in undo.get_data(as_text=True)
    for task in acme.mine:
        assert Task.get_by_id(task.id).assignee_id == acme.user.id and len(history(task, "reassigned")) == 2


def test_another_accounts_tasks_and_people_are_out_of_reach(client, acme, make_account):
    other = make_account("Globex")
    process(other, ev.integration_event("failed", 9))
    theirs = Task.get(Task.account == other.account)
    stranger = other.user

    mixed = [str(theirs.id), str(acme.mine[0].id)]
    html = bulk(client, acme, HTMX, action="complete", task=mixed).get_data(as_text=True)
    assert "Completed: <strong>1 task</strong>" in html
    assert Task.get_by_id(theirs.id).status == "open" and not history(theirs, "completed")
    assert Task.get_by_id(acme.mine[0].id).status == "completed"

    bulk(client, acme, HTMX, action="hand_over", to=ev.PAT["email"], task=[str(theirs.id)])
    assert Task.get_by_id(theirs.id).assignee_id == stranger.id
    # Not to someone of another account, nor back to them by a forged Undo.
    refused = bulk(client, acme, action="hand_over", to=stranger.email, task=[str(acme.mine[1].id)])
    assert refused.status_code == 400 and Task.get_by_id(acme.mine[1].id).assignee_id == acme.user.id
    bulk(client, acme, HTMX, action="return", back=[f"{acme.mine[1].id}:{stranger.id}", f"{theirs.id}:{acme.user.id}"])
    assert Task.get_by_id(acme.mine[1].id).assignee_id == acme.user.id
    assert Task.get_by_id(theirs.id).assignee_id == stranger.id


def test_bulk_posts_need_the_csrf_token_and_a_known_action(client, acme):
    ids = [str(task.id) for task in acme.mine]
    assert client.post("/tasks/bulk", data={"action": "complete", "task": ids}).status_code == 400
    assert client.post("/tasks/bulk", data={"action": "complete", "task": ids}, headers=HTMX).status_code == 400
    assert bulk(client, acme, action="delete", task=ids).status_code == 400
    assert client.get("/tasks/bulk").status_code == 405
    assert all(Task.get_by_id(task.id).status == "open" for task in acme.mine)


def test_a_batch_is_all_or_nothing_and_no_larger_than_the_limit(client, acme):
    from webapp.views.tasks import BULK_MAX

    too_many = [str(acme.mine[0].id)] + [str(10_000 + i) for i in range(BULK_MAX)]
    assert bulk(client, acme, action="complete", task=too_many).status_code == 400
    assert Task.get_by_id(acme.mine[0].id).status == "open"
    nothing = bulk(client, acme, HTMX, action="complete", task=["x", "-1"])
    assert "No tasks changed" in nothing.get_data(as_text=True)


def test_the_list_is_compact_until_the_browser_chooses_the_comfortable_view(client, acme):
    assert 'class="tasks is-compact"' in client.get("/tasks").get_data(as_text=True)
    assert client.post("/tasks/view", data={"density": "comfortable"}).status_code == 400  # no CSRF token
    response = client.post("/tasks/view?category=new_job", data={"density": "comfortable", "csrf_token": acme.csrf})
    assert response.status_code == 303 and "category=new_job" in response.headers["Location"]
    assert "HttpOnly" in response.headers["Set-Cookie"]
    assert 'class="tasks is-comfortable"' in client.get("/tasks").get_data(as_text=True)
    assert bulk(client, acme, action="complete").status_code == 303  # nothing selected: back to the list
    client.set_cookie("docket_density", "huge")
    assert 'class="tasks is-compact"' in client.get("/tasks").get_data(as_text=True)


def test_a_bulk_post_after_the_session_expired_is_sent_to_sign_in(app, acme):
    from flask import g

    g.pop("_login_user", None)  # the test's app context outlives the signed-in client's requests
    ids = [str(task.id) for task in acme.mine]
    response = app.test_client().post("/tasks/bulk", data={"action": "complete", "task": ids}, headers=HTMX)
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")
    assert all(Task.get_by_id(task.id).status == "open" for task in acme.mine)
