"""One open task per (account, rule, key), kept by the database itself (a partial unique index on
both backends): workers racing on one key dedupe instead of opening two, and reopening a task whose
work has been opened again since is refused with a clear answer."""

import time

import pytest
from peewee import IntegrityError

from tests import events as ev
from tests.helpers import start_worker, stop_worker
from webapp.db import database
from webapp.models import Event, Task, TaskHistory
from webapp.pipeline import TaskStore, drain
from webapp.rulebook import rulebook_for
from webapp.rules.engine import make_trigger, normalise_event


def _ready_trigger(account, event):
    rulebook = rulebook_for(account)
    event = normalise_event({**event, "data": {**event["data"], "account": {"name": "Acme"}}})
    return make_trigger(rulebook.rule("ready_to_schedule"), event), event, rulebook


def test_the_database_refuses_a_second_open_task_for_a_key(app, make_account):
    acme = make_account()
    acme.post_event(ev.stage_changed())
    drain()
    task = Task.get()
    fields = {k: v for k, v in task.__data__.items() if k not in ("id", "created_at", "updated_at")}
    with pytest.raises(IntegrityError, match="task|unique|UNIQUE"), database.atomic():
        Task.create(**dict(fields, title="again"))
    # Completed tasks of the key are many; only one may be open.
    Task.update(status=Task.COMPLETED).where(Task.id == task.id).execute()
    Task.create(**dict(fields, title="new"))
    assert Task.select().where(Task.status == Task.OPEN).count() == 1
    assert Task.select().count() == 2


def test_opening_a_key_another_worker_just_opened_is_a_dedupe(app, make_account):
    """What a worker sees when another committed the same key after it looked: the insert fails in
    its own savepoint, and the trigger retriggers the task that is there."""
    acme = make_account()
    event = ev.stage_changed()
    trigger, engine_event, rulebook = _ready_trigger(acme.account, event)
    acme.post_event(event)
    row = Event.get()
    with database.atomic():
        store = TaskStore(acme.account, row, rulebook)
        first = store.open(trigger, engine_event)
        second = store.open(trigger, engine_event)  # as if find_open had not seen the first
    assert second.id == first.id
    assert Task.select().count() == 1
    kinds = [h.kind for h in TaskHistory.select().order_by(TaskHistory.id)]
    assert kinds == ["opened", "retriggered"]


def test_reopening_a_task_whose_work_is_open_again_is_a_409_naming_the_open_one(app, make_account):
    acme = make_account()
    acme.post_event(ev.stage_changed())
    drain()
    [old] = acme.tasks()
    assert acme.post(f"/api/tasks/{old['id']}/complete").status_code == 200
    acme.post_event(ev.stage_changed(minutes=5))  # the candidate comes back into the stage
    drain()
    new = next(t for t in acme.tasks() if t["status"] == "open")
    answer = acme.post(f"/api/tasks/{old['id']}/reopen")
    assert answer.status_code == 409
    assert answer.get_json() == {
        "error": "already_open",
        "message": f"task {new['id']} is open for the same work",
        "task": new["id"],
    }
    assert Task.get_by_id(old["id"]).status == Task.COMPLETED
    assert [t["status"] for t in sorted(acme.tasks(), key=lambda t: t["id"])] == ["completed", "open"]


@pytest.mark.slow
@pytest.mark.faults
def test_four_workers_taking_one_event_at_a_time_open_one_task_per_key(app, make_account, worker_env):
    """Measured before: 4 of 80 keys got two open tasks with four PostgreSQL workers."""
    acme = make_account()
    keys = 80
    for copy in range(2):
        for n in range(keys):
            application = {"id": f"app-{n}"}
            candidate = dict(ev.CANDIDATE, id=f"cand-{n}", name=f"Candidate {n}")
            acme.post_event(ev.stage_changed(application=application, candidate=candidate, minutes=copy))
    env = {**worker_env, "INBOX_BATCH_SIZE": "1"}
    workers = [start_worker(env, burst=True) for _ in range(4)]
    try:
        deadline = time.monotonic() + 120
        while Event.select().where(Event.status == Event.PENDING).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for worker in workers:
            stop_worker(worker, timeout=60)
    assert Event.select().where(Event.status == Event.PROCESSED).count() == 2 * keys
    assert Task.select().where(Task.status == Task.OPEN).count() == keys
    assert Task.select().count() == keys
