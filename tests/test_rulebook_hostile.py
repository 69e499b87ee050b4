"""A rulebook as an admin can break it: templates that fail only when rendered, Python tags,
recursive aliases, alias bombs and unbounded arithmetic are refused by Check with a clear problem
(a 422 on the page); a rulebook in force whose template fails on real data still opens its task,
with a plain title and the problem on the inbox row, and never fails the event."""

import json

import pytest

from tests import events as ev
from tests.helpers import csrf_from, sign_in
from tests.test_rulebook_versions import DEFAULT
from webapp.inbox import accept
from webapp.models import Event, RulebookVersion, Task
from webapp.pipeline import drain
from webapp.rules import RulebookError, load_rulebook
from webapp.rules.templates import TemplateRenderError, compile_template

READY_TITLE = 'title: "{{ candidate.name }} — {{ stage.name }}"'
assert READY_TITLE in DEFAULT


def with_title(title):
    return DEFAULT.replace(READY_TITLE, f"title: {json.dumps(title)}", 1)


def problems_of(text):
    with pytest.raises(RulebookError) as caught:
        load_rulebook(text)
    return [str(problem) for problem in caught.value.problems]


@pytest.mark.parametrize(
    "template, said",
    [
        ("{{ ''.__class__ }}", "__class__"),
        ("{{ 1/0 }}", "division by zero"),
        ("{{ candidate.name + 1 }}", "can only concatenate"),
        ("{{ 9**9999999 }}", "too large a number"),
        ("{{ 'x' * 10**9 }}", "repeating"),
        ("{{ candidate.name | center(999999999) }}", "too large a number"),
        ("{{ '%0999999999d' % 1 }}", "too large a number"),
        ("{{ '{:>999999999}'.format(1) }}", "too large a number"),
        ("{% for i in range(10**6) %}x{% endfor %}", "too large a number"),
    ],
)
def test_a_template_that_fails_when_rendered_is_a_problem_on_its_line(template, said):
    problems = problems_of(with_title(template))
    assert len(problems) == 1
    assert "rules[0].title: template fails when rendered for an example application.stage_changed event" in problems[0]
    assert said in problems[0]


def test_ordinary_arithmetic_and_formatting_still_render():
    assert compile_template("{{ 2**10 }} {{ 'ab' * 3 }} {{ '%05.1f' % 3.14159 }}").render({}) == "1024 ababab 003.1"


def test_a_template_cannot_render_more_text_than_a_task_holds():
    with pytest.raises(TemplateRenderError, match="longer than"):
        compile_template("{% for i in range(999) %}{{ 'y' * 999 }}{% endfor %}").render({})


BOMB = (
    "version: 1\n"
    + "".join(
        f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['x'] * 9)}]\n"
        for prev, name in zip([None, "a", "b", "c", "d", "e", "f"], ["a", "b", "c", "d", "e", "f", "g"], strict=True)
    )
    + "rules: [*g]\n"
)


@pytest.mark.parametrize(
    "text, said",
    [
        (DEFAULT.replace("version: 1", "version: !!python/name:os.system", 1), "2002:python/name:os.system"),
        (DEFAULT.replace("priority: high", 'priority: !!python/object/apply:os.system ["true"]', 1), "not allowed"),
        ("version: 1\nrules: &a [*a]\n", "an alias refers to a value that contains it"),
        ("version: 1\nrules: &a {x: *a}\n", "an alias refers to a value that contains it"),
        (BOMB, "expands to more than 50,000 values"),
        ("version: 1\nrules: " + "[" * 5000 + "]" * 5000, "nested too deeply"),
        ("version: 1\nrules: []\n#" + "x" * 600_000, "at most 524,288 are read"),
    ],
)
def test_hostile_yaml_is_one_clear_problem(text, said):
    problems = problems_of(text)
    assert len(problems) == 1 and said in problems[0], problems


def test_the_page_answers_422_with_the_reason_for_each_hostile_draft(client, make_account):
    handle = make_account("Acme")
    sign_in(client, handle.user.email)
    csrf = csrf_from(client.get("/admin/rules").get_data(as_text=True))
    drafts = {
        BOMB: "expands to more than 50,000 values",
        "version: 1\nrules: &a [*a]\n": "an alias refers to a value that contains it",
        with_title("{{ 9**9999999 }}"): "too large a number",
        DEFAULT.replace("version: 1", "version: !!python/name:os.system", 1): "is not allowed here",
    }
    for text, said in drafts.items():
        for path in ("/admin/rules/check", "/admin/rules/save", "/admin/rules/preview"):
            response = client.post(path, data={"csrf_token": csrf, "text": text, "message": "x", "events": "10"})
            assert response.status_code == 422, (path, said)
            assert said in response.get_data(as_text=True), (path, said)
    tests = "tests:\n  - &t [*t]\n"
    response = client.post("/admin/rules/save", data={"csrf_token": csrf, "text": DEFAULT, "tests": tests})
    assert response.status_code == 422
    assert "an alias refers to a value that contains it" in response.get_data(as_text=True)
    assert RulebookVersion.select().count() == 0


def test_a_version_in_force_whose_title_fails_still_opens_its_task_with_a_plain_title(app, make_account):
    """A version saved before Check rendered templates (or data stranger than the examples) breaks
    its title at run time: the task is opened all the same, and the inbox row says what went wrong."""
    handle = make_account("Acme")
    RulebookVersion.create(account=handle.account, number=1, text=with_title("{{ candidate.name }} {{ 1/0 }}"))
    event = ev.stage_changed()
    accept(handle.account, "api", event["id"], event, type=event["type"], occurred_at=event["occurred_at"])
    drain()
    row = Event.get()
    assert row.status == Event.INCOMPLETE
    assert "ready_to_schedule: ready_to_schedule.title: cannot render" in row.note
    assert "division by zero; the task got a plain text instead" in row.note
    task = Task.get()
    assert task.status == Task.OPEN
    assert task.title == f"Ready to Schedule: {event['data']['application']['id']}, {event['data']['stage']['id']}"


def test_the_rules_page_shows_what_a_rule_could_not_do(client, make_account):
    """The problem is visible on the rule, not only on the inbox row."""
    handle = make_account("Acme")
    RulebookVersion.create(account=handle.account, number=1, text=with_title("{{ 1/0 }}"))
    for minutes in (0, 1):
        event = ev.stage_changed(minutes=minutes, application={"id": f"app-{minutes}"})
        accept(handle.account, "api", event["id"], event, type=event["type"], occurred_at=event["occurred_at"])
    drain()
    sign_in(client, handle.user.email)
    html = client.get("/admin/rules").get_data(as_text=True)
    assert "What rules could not do lately" in html
    assert "<code>ready_to_schedule</code>: ready_to_schedule.title: cannot render" in html
    assert "division by zero" in html and "(2 events;" in html
