"""Handing a candidate's open tasks to their new coordinator is a query on the tasks' candidate
(Task.open_about_candidate), kept by the pipeline when it opens a task and by erasure when a merge
moves tasks to the survivor."""

from tests import events as ev
from webapp.models import Task
from webapp.pipeline import drain

OTHER = dict(ev.CANDIDATE, id="cand-2", name="Sam Park", email="sam@example.com")


def _open_tasks(handle):
    handle.post_event(ev.stage_changed())
    handle.post_event(ev.stage_changed(application={"id": "app-2"}, candidate=OTHER))
    handle.post_event(ev.stage_changed(stage=ev.SCREEN, application={"id": "app-3"}))
    drain()


def test_the_query_finds_exactly_the_candidates_open_tasks(app, make_account):
    acme, globex = make_account("Acme"), make_account("Globex")
    _open_tasks(acme)
    _open_tasks(globex)
    first, _, third = Task.select().where(Task.account == acme.account).order_by(Task.id)
    assert Task.open_about_candidate(acme.account, "cand-1") == [first, third]

    third.complete_by(acme.user)
    assert Task.open_about_candidate(acme.account, "cand-1") == [first]
    assert [t.subjects["candidate"]["id"] for t in Task.open_about_candidate(acme.account, "cand-2")] == ["cand-2"]
    assert Task.open_about_candidate(acme.account, "cand-unknown") == []


def test_a_task_keeps_the_candidate_its_subjects_name(app, make_account):
    acme = make_account()
    acme.post_event(ev.stage_changed())
    acme.post_event(ev.envelope("stage.created", job=ev.JOB, stage={"id": "stage-new", "name": "New"}))
    drain()
    assert {t.rule_id: t.candidate_external_id for t in Task.select()} == {
        "ready_to_schedule": "cand-1",
        "new_stage": None,
    }


def test_a_merge_moves_the_candidates_tasks_to_the_survivor(app, make_account):
    acme = make_account()
    acme.post_event(ev.stage_changed())
    drain()
    acme.post_event(
        ev.envelope("candidate.erased", candidate={"id": "cand-1"}, merged_into={"id": "cand-9"}, reason="merged")
    )
    drain()
    [task] = Task.open_about_candidate(acme.account, "cand-9")
    assert task.subjects["candidate"]["id"] == "cand-9"
    assert Task.open_about_candidate(acme.account, "cand-1") == []


def test_the_upgrade_fills_in_the_candidate_of_the_tasks_there_are(tmp_path, settings):
    import json

    from playhouse.migrations import Runner

    from webapp import create_app
    from webapp.db import database, migrate

    app = create_app(dict(settings, DATABASE_URL=f"sqlite:///{tmp_path / 'old.db'}"))
    with app.app_context(), database.connection_context():
        Runner(database.obj, directory=str(__import__("webapp").__path__[0] + "/migrations")).up(
            target="0012_user_sessions"
        )
        database.execute_sql(
            "INSERT INTO account (id, name, webhook_key, created_at) VALUES (1, 'Old', 'k', '2026-01-01')"
        )
        for n, subjects in enumerate(({"candidate": {"id": 42, "name": "Jordan"}}, {"job": {"id": "job-1"}})):
            database.execute_sql(
                "INSERT INTO task (account_id, rule_id, category, key, title, recommended_action, description,"
                " subjects, created_at, last_triggered_at, priority, priority_rank, status)"
                " VALUES (1, 'r', 'c', ?, 't', 'a', '', ?, '2026-01-01', '2026-01-01', 'normal', 2, 'open')",
                (f"key-{n}", json.dumps(subjects)),
            )
        assert migrate()[:2] == ["0013_task_candidate", "0014_task_listing_indexes"]  # and those since
        assert [t.candidate_external_id for t in Task.select().order_by(Task.id)] == ["42", None]
        assert Task.open_about_candidate(1, 42) == [Task.get(Task.key == "key-0")]
