"""The demo works end to end: its tasks carry real names, and each recommended action can be done,
as a new user would try it after `make run`."""

import re

from tests.helpers import csrf_from, sign_in
from webapp.models import Account, Event, Task, User
from webapp.pipeline import drain


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
