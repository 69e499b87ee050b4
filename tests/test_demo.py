"""The demo works end to end: its tasks carry real names, and each recommended action can be done,
as a new user would try it after `make run`."""

import datetime as dt
import json
import re
import shlex
from pathlib import Path

from tests.helpers import csrf_from, sign_in
from webapp.models import Account, ApiToken, Event, Task, User, utcnow
from webapp.pipeline import drain
from webapp.rules import EVENT_TYPES


def _load_demo(runner, app, tmp_path):
    app.config["DEMO_CREDENTIALS_FILE"] = str(tmp_path / "demo-credentials.txt")
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    drain()
    passwords = dict(line.split() for line in (tmp_path / "demo-credentials.txt").read_text().splitlines())
    return Account.get(Account.name == "Acme Demo"), passwords


def _field(html, name):
    return re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', html).group(1)


def test_every_demo_task_names_real_people_and_nothing_failed(runner, app, tmp_path):
    account, _ = _load_demo(runner, app, tmp_path)
    tasks = list(Task.select().where(Task.account == account))
    assert tasks
    for task in tasks:
        assert "(unknown)" not in task.title and "(unknown)" not in task.recommended_action, task.title
        assert task.assignee_id is not None, task.title
    assert not Event.select().where(Event.account == account, Event.status.in_(["failed", "incomplete"])).exists()
    titles = {t.rule_id: t.title for t in tasks if t.status == "open"}
    assert titles["interviewer_declined"] == "Maria Garcia — Dana Wu declined"
    assert titles["schedule_cancelled"] == "Wei Chen — Sales Pitch (cancelled)"


def test_the_demo_interviewer_decline_can_be_done_from_its_task(runner, app, client, tmp_path):
    account, passwords = _load_demo(runner, app, tmp_path)
    decline = Task.get(Task.account == account, Task.rule_id == "interviewer_declined", Task.status == "open")
    owner = User.get_by_id(decline.assignee_id)
    sign_in(client, owner.email, passwords[owner.email])

    listing = client.get("/tasks").get_data(as_text=True)
    link = re.search(rf'href="(/schedules/[^"]+/edit\?task={decline.id})"', listing).group(1)
    form = client.get(link).get_data(as_text=True)
    dana = User.get(User.account == account, User.email == "dana.wu@acme.test")
    sam = User.get(User.account == account, User.email == "sam.lee@acme.test")
    assert re.search(rf'<option value="{dana.id}" selected>Dana Wu', form), "the editor shows who declined"
    room = re.search(r'<option value="(\d+)" selected>Room', form).group(1)
    others = [i for i in re.findall(r'<option value="(\d+)" selected>', form) if i not in (str(dana.id), room)]

    response = client.post(
        link,
        data={
            "csrf_token": csrf_from(form),
            "interview_count": "1",
            "action": "save",
            "interviews-0-name": _field(form, "interviews-0-name"),
            "interviews-0-starts_at": _field(form, "interviews-0-starts_at"),
            "interviews-0-ends_at": _field(form, "interviews-0-ends_at"),
            "interviews-0-interviewers": [str(sam.id), *others],
            "interviews-0-room": room,
            "interviews-0-invite_candidate": "1",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    drain()
    done = Task.get_by_id(decline.id)
    assert done.status == "completed"
    assert done.completion_reason == f"{owner.name} swapped interviewers in the onsite"


README = Path(__file__).resolve().parents[1] / "README.md"


def readme_examples():
    """The README's `post TYPE ID DATA` lines, as (type, id, data)."""
    examples = []
    for line in README.read_text().splitlines():
        if line.startswith("post "):
            _, etype, event_id, data = shlex.split(line)
            examples.append((etype, event_id, json.loads(data)))
    return examples


def test_the_readme_posts_every_event_type_and_each_does_what_it_says_on_the_demo(runner, app, client, tmp_path):
    account, _ = _load_demo(runner, app, tmp_path)
    examples = readme_examples()
    assert {etype for etype, _, _ in examples} == set(EVENT_TYPES)
    token = ApiToken.issue(User.get(User.account == account, User.email == "alex.kim@acme.test"))
    start = utcnow()
    for n, (etype, event_id, data) in enumerate(examples):
        occurred_at = (start + dt.timedelta(seconds=n)).isoformat()
        envelope = {"id": event_id, "type": etype, "occurred_at": occurred_at, "data": data}
        response = client.post("/api/events", json=envelope, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 202, (etype, response.get_json())
        drain()
        row = Event.get_by_id(response.get_json()["id"])
        assert row.status == Event.PROCESSED, (etype, row.status, row.last_error, row.note)

    tasks = {t.title: t for t in Task.select().where(Task.account == account, Task.created_at >= start)}
    assert "Jordan Lee — Onsite" in tasks  # the move
    assert tasks["Jordan Lee — Lee Park declined"].status == "completed"  # replaced by the edit
    assert tasks["Jordan Lee — Onsite (cancelled)"].status == "completed"  # the application closed
    assert tasks["Jordan Lee — Onsite (cancelled)"].assignee.email == "alex.kim@acme.test"  # Jordan's coordinator
    assert tasks["New job: Site Reliability Engineer"].assignee.email == "priya.shah@acme.test"
    assert all(t.status == "completed" for t in tasks.values()), {t: x.status for t, x in tasks.items()}
    assert not any("(unknown)" in title for title in tasks)
