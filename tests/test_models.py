"""The models' writes: peewee's create and save, and the worker's insert_row and update_row (whose
statements are built once per set of columns), keep every kind of value, on SQLite and PostgreSQL alike."""

import datetime as dt

from webapp.models import Event, Task, User, insert_row, update_row, utcnow


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


def test_the_workers_inserts_and_updates_keep_every_kind_of_value(make_account):
    acme = make_account("Acme")
    pat = User.for_email(acme.account, "pat@acme.test", "Pat")
    event = insert_row(Event, account=acme.account, source="api", external_id="e-1", type="job.created", payload={})
    when = dt.datetime(2026, 11, 28, 9, 30, tzinfo=dt.UTC)
    values = dict(
        account=acme.account,
        rule_id="new_job",
        category="New Job",
        title="New job: Ünïcode — “quotes”",
        recommended_action="Set it up",
        assignee=pat,
        subjects={"job": {"id": "j-1"}},
        last_triggered_at=when,
        raised_by_event=event,
    )
    first = insert_row(Task, key='{"job.id": "j-1"}', **values)
    second = insert_row(Task, key='{"job.id": "j-2"}', **values)  # the same statement, run again
    assert first.id is not None and second.id == first.id + 1 and Event.get_by_id(event.id).external_id == "e-1"
    fresh = Task.get_by_id(second.id)
    assert (fresh.title, fresh.assignee_id, fresh.raised_by_event_id) == (values["title"], pat.id, event.id)
    assert fresh.subjects == {"job": {"id": "j-1"}} and fresh.last_triggered_at == when
    assert fresh.key_head is None and fresh.status == "open" and fresh.created_at <= utcnow()

    fresh.status, fresh.completed_at, fresh.assignee = "completed", when, None
    assert update_row(fresh) == 1
    again = Task.get_by_id(second.id)
    assert (again.status, again.completed_at, again.assignee_id) == ("completed", when, None)

    again.title = "changed"
    again.priority = "urgent"
    update_row(again, Task.priority)  # only what is named is written
    last = Task.get_by_id(second.id)
    assert (last.priority, last.title) == ("urgent", values["title"])
    assert Task.get_by_id(first.id).status == "open"


def test_a_user_another_worker_just_created_is_read_back_not_an_integrity_error(make_account):
    acme = make_account()
    first = User.add_for_email(acme.account, "New.Person@acme.test")
    again = User.add_for_email(acme.account, "new.person@acme.test", "New Person")
    assert again.id == first.id
    assert User.get_by_id(first.id).name == "New Person"
    assert User.select().where(User.email == "new.person@acme.test").count() == 1
    assert insert_row(User, unique=("account", "email"), account=acme.account, email="new.person@acme.test") is None


def test_a_mirror_row_another_worker_created_after_the_batch_looked_is_updated_not_an_integrity_error(make_account):
    from webapp import mirror
    from webapp.models import Job

    acme = make_account()
    envelope = {
        "type": "job.updated",
        "occurred_at": utcnow().isoformat(),
        "data": {"job": {"id": "job-x", "name": "New"}},
    }
    with mirror.batch():
        mirror.preload(acme.account.id, [envelope])
        assert mirror.find(Job, acme.account, "job-x") is None  # the batch looked: none yet
        Job.create(account=acme.account, external_id="job-x", name="Old")  # another worker's
        data = mirror.apply(acme.account, envelope)
    assert data["job"]["name"] == "New"
    assert [(job.external_id, job.name) for job in Job.select()] == [("job-x", "New")]
