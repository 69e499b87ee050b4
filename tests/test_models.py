"""The models' own writes: create and save (whose statements are built once per set of columns)
keep every kind of value, on SQLite and PostgreSQL alike."""

import datetime as dt

from webapp.models import Event, Task, User, utcnow


def test_create_and_save_keep_every_kind_of_value(make_account):
    acme = make_account("Acme")
    pat = User.for_email(acme.account, "pat@acme.test", "Pat")
    event = Event.create(account=acme.account, source="api", external_id="e-1", type="job.created", payload={"a": [1]})
    when = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC)
    task = Task.create(
        account=acme.account,
        rule_id="new_job",
        category="New Job",
        key='{"job.id": "j-1"}',
        title="New job: Ünïcode — “quotes”",
        recommended_action="Set it up",
        assignee=pat,
        subjects={"job": {"id": "j-1", "name": "Engineer"}},
        last_triggered_at=when,
        raised_by_event=event,
    )
    assert task.id is not None and Task.select().count() == 1
    fresh = Task.get_by_id(task.id)
    assert (fresh.title, fresh.assignee_id, fresh.raised_by_event_id) == (task.title, pat.id, event.id)
    assert fresh.subjects == {"job": {"id": "j-1", "name": "Engineer"}} and fresh.last_triggered_at == when
    assert fresh.key_head is None and fresh.status == "open" and fresh.created_at <= utcnow()

    fresh.status, fresh.completed_at, fresh.assignee = "completed", when, None
    assert fresh.save() == 1
    again = Task.get_by_id(task.id)
    assert (again.status, again.completed_at, again.assignee_id) == ("completed", when, None)

    again.title = "changed"
    again.priority = "urgent"
    again.save(only=[Task.priority])  # only what is named is written
    last = Task.get_by_id(task.id)
    assert (last.priority, last.title) == ("urgent", task.title)


def test_a_related_row_saved_after_it_was_assigned_is_linked(make_account):
    acme = make_account("Acme")
    newcomer = User(account=acme.account, email="new@acme.test", name="New")
    event = Event(account=acme.account, source="api", external_id="e-2", type="job.created", payload={})
    event.save()
    task = Task(account=acme.account, rule_id="r", category="C", key="{}", title="t", recommended_action="a")
    task.assignee = newcomer  # not saved yet
    task.last_triggered_at = utcnow()
    newcomer.save()
    task.save()
    assert Task.get_by_id(task.id).assignee_id == newcomer.id
