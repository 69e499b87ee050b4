"""A coordinator's whole day in a real browser: a dense list, the keyboard, bulk actions, phones."""

import pytest

from tests.helpers import PASSWORD
from webapp.models import Event, Task, utcnow

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def make_tasks(account, user, n, rule_id="new_job", category="New Job"):
    """n open tasks for `user`, inserted at once (the pipeline is not what is tested here)."""
    raised = Event.create(account=account, source="api", external_id=f"day-{user.id}-{n}", type="job.created", payload={})
    now = utcnow()
    Task.insert_many(
        [
            {
                "account": account,
                "rule_id": rule_id,
                "category": category,
                "key": f'{{"job.id": "day-{user.id}-{i}"}}',
                "key_head": f"day-{user.id}-{i}",
                "title": f"New job: Senior Platform Engineer {i}",
                "recommended_action": f"Set up Senior Platform Engineer {i} for scheduling",
                "assignee": user,
                "subjects": {"job": {"id": f"day-{user.id}-{i}", "name": f"Job {i}"}},
                "created_at": now,
                "last_triggered_at": now,
                "raised_by_event": raised,
            }
            for i in range(n)
        ]
    ).execute()
    return list(Task.select().where(Task.assignee == user).order_by(Task.priority_rank, Task.created_at, Task.id))


def sign_in(page, email):
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="My tasks").wait_for()


ROWS_FULLY_VISIBLE = """() => [...document.querySelectorAll('#task-rows tr.task')].filter(row => {
  const box = row.getBoundingClientRect();
  return box.top >= 0 && box.bottom <= window.innerHeight;
}).length"""


def test_measure(page, make_account):
    handle = make_account("Acme")
    make_tasks(handle.account, handle.user, 60)
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, handle.user.email)
    print("ROWS", page.evaluate(ROWS_FULLY_VISIBLE))
