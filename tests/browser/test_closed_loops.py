# ruff: noqa: F811 (the acme fixture imported from test_actions)
"""A coordinator's loops close, in Chromium with a real worker: scheduling from a task lands back on
the list with a notice naming the completed task and the next task in focus, the completed task
offers no action any more, and a cancellation is confirmed first and can be undone from its notice."""

import re

import pytest
from playwright.sync_api import expect

from tests import events as ev
from tests.helpers import start_worker, stop_worker, wait_for
from webapp.models import Schedule, Task
from webapp.queue import has_workers

from .test_actions import acme, book, declined, fill_interview, sign_in, trigger  # noqa: F401 (acme is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def worker(worker_env):
    """A real `python -m worker`, listening before the test acts."""
    process = start_worker(worker_env)
    try:
        assert wait_for(has_workers, seconds=60), "the worker did not start"
        yield process
    finally:
        stop_worker(process)


def test_schedule_from_a_task_lands_on_the_list_with_a_notice_and_the_next_task_in_focus(
    page,
    acme,
    worker,
    screenshot,
):
    trigger(acme, ev.stage_changed(candidate=acme.candidate))
    trigger(
        acme,
        ev.stage_changed(
            stage=ev.SCREEN,
            application={"id": "app-2"},
            candidate={**acme.candidate, "id": "cand-2", "name": "Sam Park"},
        ),
    )
    sign_in(page, acme.user.email)
    row = page.locator("#task-rows tr.task", has_text="Jordan Lee — Onsite")
    row.get_by_role("link", name=re.compile(r"^Do it")).click()
    fill_interview(page, start=(10, 0), end=(11, 0), interviewers=[acme.dana])
    page.get_by_role("button", name="Schedule and send invites").click()

    expect(page).to_have_url(re.compile(r"/tasks\?focus=\d+$"))
    notice = page.locator("#notice")
    expect(notice).to_contain_text("Completed: Jordan Lee — Onsite")
    expect(notice).to_contain_text("Jordan Lee is scheduled for Onsite.")
    expect(page.get_by_role("link", name="Sam Park — Phone Screen")).to_be_focused()
    expect(page.locator("#task-rows tr.task", has_text="Jordan Lee — Onsite")).to_have_count(0)
    screenshot("after-scheduling")

    # The completed task offers its action nowhere: not on its row, not on its page.
    page.get_by_label("Show completed").check()
    done = page.locator("#task-rows tr.task.is-completed", has_text="Jordan Lee — Onsite")
    expect(done.locator(".task-completion")).to_contain_text("Casey Coordinator scheduled Jordan Lee for the onsite")
    expect(done.get_by_role("link", name=re.compile(r"^Do it"))).to_have_count(0)
    done.get_by_role("link", name="Jordan Lee — Onsite", exact=True).click()
    expect(page.locator(".status")).to_have_text("Completed")
    expect(page.get_by_role("link", name=re.compile(r"^Schedule Jordan Lee"))).to_have_count(0)
    expect(page.get_by_role("button", name="Reopen")).to_be_visible()


def test_cancelling_asks_first_and_the_notice_can_undo_it(page, acme, worker):
    trigger(acme, ev.stage_changed(candidate=acme.candidate))
    schedule = book(acme)
    trigger(acme, declined(acme, ev.INTERVIEWER, schedule))
    sign_in(page, acme.user.email)
    row = page.locator("#task-rows tr.task", has_text="Jordan Lee — Dana Wu declined")
    row.get_by_role("link", name=re.compile(r"^Do it")).click()
    page.get_by_role("link", name="Cancel the schedule…").click()
    expect(page.get_by_role("heading", name="Cancel the Onsite schedule of Jordan Lee?")).to_be_visible()
    assert Schedule.get_by_id(schedule.id).status == "scheduled"  # only asked
    page.get_by_role("button", name="Yes, cancel the schedule").click()

    notice = page.locator("#notice")
    expect(notice).to_contain_text("Completed: Jordan Lee — Dana Wu declined")
    expect(page.locator("#task-rows tr.task", has_text="Jordan Lee — Onsite (cancelled)")).to_have_count(1)
    assert Schedule.get_by_id(schedule.id).status == "cancelled"
    notice.get_by_role("button", name="Undo").click()

    expect(page.locator("#notice")).to_contain_text("The cancellation is undone")
    expect(page.locator("#task-rows tr.task", has_text="Jordan Lee — Dana Wu declined")).to_have_count(1)
    expect(page.locator("#task-rows tr.task", has_text="(cancelled)")).to_have_count(0)
    assert Schedule.get_by_id(schedule.id).status == "scheduled"
    decline = Task.get(Task.rule_id == "interviewer_declined")
    page.goto(f"/tasks/{decline.id}")
    expect(page.locator(".history")).to_contain_text("Reopened by you: the cancellation was undone")
