"""A coordinator's whole day in a real browser: compact rows that fit twice as many tasks, the
keyboard (with focus kept in the list after each action), bulk actions with one Undo, and pages
that fit a phone."""

import re

import pytest
from playwright.sync_api import expect

from tests import events as ev
from tests.browser.conftest import sign_in
from tests.helpers import PASSWORD, process
from webapp.models import Event, Task, TaskHistory, User, utcnow

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def make_tasks(account, user, n):
    """n open New Job tasks for `user`, inserted at once (the pipeline is not what is tested here)."""
    raised = Event.create(account=account, source="api", external_id=f"day-{user.id}", type="job.created", payload={})
    now = utcnow()
    Task.insert_many(
        [
            {
                "account": account,
                "rule_id": "new_job",
                "category": "New Job",
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


@pytest.fixture
def day(make_account):
    """Acme, whose Casey has 60 open tasks (more than the 50 drawn at first) and a colleague, Pat."""
    handle = make_account("Acme")
    handle.tasks = make_tasks(handle.account, handle.user, 60)
    pat = User.for_email(handle.account, "pat@acme.test", "Pat Coordinator")
    pat.set_password(PASSWORD)
    pat.save()
    handle.pat = pat
    return handle


# Counted at the top of the page, as a coordinator first sees it.
ROWS_FULLY_VISIBLE = """() => { window.scrollTo(0, 0);
return [...document.querySelectorAll('#task-rows tr.task')].filter(row => {
  const box = row.getBoundingClientRect();
  return box.top >= 0 && box.bottom <= window.innerHeight;
}).length; }"""

FOCUSED = "() => document.activeElement && (document.activeElement.id || document.activeElement.tagName)"


def focused(page):
    return page.evaluate(FOCUSED)


def test_compact_rows_fit_twice_as_many_tasks_and_the_comfortable_view_is_remembered(page, day, screenshot):
    page.set_viewport_size({"width": 1440, "height": 900})
    sign_in(page, day.user.email)
    expect(page.locator("table.tasks")).to_have_class(re.compile(r"\bis-compact\b"))
    page.wait_for_load_state("load")  # its stylesheet applied: on a busy machine it may come late
    compact = page.evaluate(ROWS_FULLY_VISIBLE)
    screenshot("day-compact", full_page=False)

    page.get_by_role("button", name="Comfortable view").click()
    expect(page.locator("table.tasks")).to_have_class(re.compile(r"\bis-comfortable\b"))
    page.wait_for_load_state("load")
    comfortable = page.evaluate(ROWS_FULLY_VISIBLE)
    screenshot("day-comfortable", full_page=False)
    # Before compact rows, 6 tasks fitted a 1440×900 screen: the comfortable view is that one.
    assert comfortable <= 8 and compact >= 2 * comfortable and compact >= 14, (compact, comfortable)

    page.goto("/tasks")  # remembered by this browser
    expect(page.locator("table.tasks")).to_have_class(re.compile(r"\bis-comfortable\b"))
    page.get_by_role("button", name="Compact view").click()
    expect(page.locator("table.tasks")).to_have_class(re.compile(r"\bis-compact\b"))


def test_the_keyboard_moves_completes_undoes_opens_and_keeps_focus_in_the_list(page, day):
    first, second, third = day.tasks[:3]
    sign_in(page, day.user.email)
    # The first row's checkmark: Tab to "Skip to tasks", Enter, Tab.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to tasks")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator(f"#complete-{first.id}")).to_be_focused()

    page.keyboard.press("j")
    expect(page.locator(f"#task-{second.id}")).to_be_focused()
    page.keyboard.press("k")
    expect(page.locator(f"#task-{first.id}")).to_be_focused()
    page.keyboard.press("j")

    page.keyboard.press("x")  # completes the second task; focus goes to the row that took its place
    expect(page.locator(f"#task-{second.id}")).to_have_count(0)
    expect(page.locator("#notice")).to_contain_text("Completed: New job: Senior Platform Engineer 1")
    expect(page.locator(f"#task-{third.id}")).to_be_focused()
    assert Task.get_by_id(second.id).status == "completed"

    page.keyboard.press("u")  # undo: the task is back, and focus is on it
    expect(page.locator(f"#task-{second.id}")).to_be_focused()
    assert Task.get_by_id(second.id).status == "open"

    page.keyboard.press("k")
    page.keyboard.press("Shift+X")  # selects the row, for the bulk form
    expect(page.locator(f"#select-{first.id}")).to_be_checked()
    expect(page.locator("#selected-count")).to_have_text("1 selected:")
    page.keyboard.press("Shift+X")
    expect(page.locator(f"#select-{first.id}")).not_to_be_checked()

    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    page.keyboard.press("j")  # keys do nothing while the dialog is open
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator(f"#task-{first.id}")).to_be_focused()  # the dialog gives focus back

    page.keyboard.press("a")
    expect(page.get_by_label("Assigned to")).to_be_focused()
    page.keyboard.press("x")  # typing in a field: no shortcut
    assert Task.select().where(Task.assignee == day.user, Task.status == "completed").count() == 0
    page.locator(f"#task-{first.id}").focus()
    page.keyboard.press("/")
    expect(page.locator("#cat-all")).to_be_focused()

    # "Show more": focus goes to the first of the rows drawn next.
    page.locator("#show-more").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#task-rows tr.task")).to_have_count(60)
    expect(page.locator(f"#task-{day.tasks[50].id}")).to_be_focused()

    page.keyboard.press("Enter")  # Enter on a row opens it (o does the same)
    expect(page).to_have_url(re.compile(rf"/tasks/{day.tasks[50].id}$"))


def test_a_mouse_completion_leaves_focus_on_the_next_row(page, day):
    sign_in(page, day.user.email)
    first, second = day.tasks[:2]
    page.locator(f"#complete-{first.id}").click()
    expect(page.locator(f"#task-{first.id}")).to_have_count(0)
    expect(page.locator(f"#task-{second.id}")).to_be_focused()


def test_bulk_complete_a_shift_clicked_range_and_undo_the_batch(page, day, screenshot):
    sign_in(page, day.user.email)
    tasks = day.tasks
    page.locator(f"#select-{tasks[1].id}").click()
    page.locator(f"#select-{tasks[4].id}").click(modifiers=["Shift"])  # a range: rows 1 to 4
    for task in tasks[1:5]:
        expect(page.locator(f"#select-{task.id}")).to_be_checked()
    expect(page.locator(f"#select-{tasks[5].id}")).not_to_be_checked()
    expect(page.locator("#selected-count")).to_have_text("4 selected:")
    screenshot("day-selected", full_page=False)

    page.locator("#bulk-complete").click()
    expect(page.locator("#notice")).to_contain_text("Completed: 4 tasks")
    expect(page.locator("#open-total")).to_have_text("56 open tasks")
    for task in tasks[1:5]:
        expect(page.locator(f"#task-{task.id}")).to_have_count(0)
    expect(page.locator(f"#task-{tasks[5].id}")).to_be_focused()
    expect(page.locator("#selected-count")).to_have_text("0 selected:")
    done = [t.id for t in tasks[1:5]]
    assert Task.select().where(Task.id.in_(done), Task.status == "completed").count() == 4
    assert TaskHistory.select().where(TaskHistory.task.in_(done), TaskHistory.kind == "completed").count() == 4

    page.get_by_role("button", name="Undo").click()  # one Undo for the whole batch
    expect(page.locator("#notice")).to_contain_text("Reopened: 4 tasks")
    expect(page.locator("#open-total")).to_have_text("60 open tasks")
    expect(page.locator(f"#task-{tasks[1].id}")).to_be_focused()
    assert Task.select().where(Task.id.in_(done), Task.status == "open").count() == 4


def test_select_all_shown_and_hand_them_to_a_colleague_then_undo(page, day):
    sign_in(page, day.user.email)
    page.get_by_role("link", name="Show more").click()
    expect(page.locator("#task-rows tr.task")).to_have_count(60)
    page.get_by_label("Select all shown").check()
    expect(page.locator("#selected-count")).to_have_text("60 selected:")
    page.get_by_label("Hand to").select_option(label="Pat Coordinator")
    page.get_by_role("button", name="Hand over").click()
    expect(page.locator("#notice")).to_contain_text("Handed to Pat Coordinator: 60 tasks")
    expect(page.locator("#open-total")).to_have_text("0 open tasks")
    assert Task.select().where(Task.assignee == day.pat, Task.status == "open").count() == 60
    notes = [h.note for h in TaskHistory.select().where(TaskHistory.kind == "reassigned")]
    assert len(notes) == 60 and notes[0] == "handed to Pat Coordinator (was Casey Coordinator)"

    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#notice")).to_contain_text("Handed back: 60 tasks")
    expect(page.locator("#open-total")).to_have_text("60 open tasks")
    assert Task.select().where(Task.assignee == day.user, Task.status == "open").count() == 60


@pytest.fixture
def page_without_js(browser, live_server):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_without_javascript_bulk_is_a_plain_form_and_the_view_a_button(page_without_js, day):
    page = page_without_js
    sign_in(page, day.user.email)
    expect(page.get_by_label("Select all shown")).to_be_hidden()  # needs the script
    for task in day.tasks[:3]:
        page.get_by_label(f"Select: {task.title}", exact=True).check()
    page.get_by_role("button", name="Complete", exact=True).click()
    expect(page.locator("#notice")).to_contain_text("Completed: 3 tasks")
    expect(page.locator("#open-total")).to_have_text("57 open tasks")
    page.get_by_role("button", name="Undo").click()
    expect(page.locator("#notice")).to_contain_text("Reopened: 3 tasks")
    expect(page.locator("#open-total")).to_have_text("60 open tasks")

    page.get_by_label(f"Select: {day.tasks[0].title}", exact=True).check()
    page.get_by_label("Hand to").select_option(label="Pat Coordinator")
    page.get_by_role("button", name="Hand over").click()
    expect(page.locator("#notice")).to_contain_text("Handed to Pat Coordinator: 1 task")
    assert Task.get_by_id(day.tasks[0].id).assignee_id == day.pat.id

    page.get_by_role("button", name="Comfortable view").click()
    expect(page.locator("table.tasks")).to_have_class(re.compile(r"\bis-comfortable\b"))


SCROLL_WIDTH = "() => document.documentElement.scrollWidth"


def test_the_coordinators_pages_fit_a_phone(page, make_account):
    """No sideways scrolling at 375 px on the task list, a task's page and the schedule form;
    the other pages of the coordinator's side are measured and reported (admin pages are not this
    list's), and must at least not be wider than they are today."""
    handle = make_account("Acme")
    casey = {"email": handle.user.email, "name": "Casey Coordinator"}
    process(
        handle,
        ev.stage_changed(candidate={**ev.CANDIDATE, "coordinator": casey}),
        ev.job_event("created", 1, job={**ev.JOB, "coordinator": casey}),
    )
    make_tasks(handle.account, handle.user, 5)
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, handle.user.email)
    ready = Task.get(Task.rule_id == "ready_to_schedule")
    schedule_url = page.locator(f"#task-{ready.id} a.go").get_attribute("href")
    assert schedule_url.startswith("/schedules/new")
    widths = {}
    for name, path in (
        ("tasks", "/tasks"),
        ("tasks, completed shown", "/tasks?completed=1"),
        ("task detail", f"/tasks/{ready.id}"),
        ("schedule form", schedule_url),
        ("rooms", "/setup/rooms"),
        ("inbox", "/admin/inbox"),
        ("rules history", "/admin/rules/history"),
        ("integrations", "/admin/integrations"),
    ):
        page.goto(path)
        widths[name] = page.evaluate(SCROLL_WIDTH)
    print("scrollWidth at 375 px:", widths)
    mine = ("tasks", "tasks, completed shown", "task detail", "schedule form", "rooms")
    assert {name: widths[name] for name in mine} == dict.fromkeys(mine, 375)
