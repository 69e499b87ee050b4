"""A worker loads the rulebooks in force before it forks a job's work horse, so each horse
inherits them instead of loading rules.yaml again; a version saved between jobs still applies."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.test_rulebook_versions import urgent_new_jobs
from webapp.db import database
from webapp.queue import get_queue, redis_connection
from webapp.rulebook import current, save_version
from worker import DocketWorker
from worker.jobs import job

pytestmark = pytest.mark.slow


@job
def priority_of_new_jobs(account_id):
    """A job: the priority the account's rulebook in force gives New Job tasks."""
    with database.connection_context():
        rulebook = current.rulebook_for(account_id)
        return next(rule.priority for rule in rulebook.rules if rule.id == "new_job")


@pytest.fixture
def loads(app, tmp_path, monkeypatch):
    """The pids of the processes that loaded a rulebook (the file, or a saved version's text)."""
    log = tmp_path / "loads"
    log.write_text("")

    def counted(load):
        def run(*args, **kwargs):
            with log.open("a") as f:
                f.write(f"{os.getpid()}\n")
            return load(*args, **kwargs)

        return run

    monkeypatch.setattr(current, "load_rulebook_file", counted(current.load_rulebook_file))
    monkeypatch.setattr(current, "load_rulebook", counted(current.load_rulebook))
    monkeypatch.setattr(current, "_file_cache", {})
    app.extensions.pop("docket_rulebooks", None)
    return lambda: [int(line) for line in log.read_text().split()]


def _run_jobs(*calls):
    queue = get_queue()
    jobs = [queue.enqueue(priority_of_new_jobs, *args) for args in calls]
    DocketWorker([queue], connection=redis_connection()).work(burst=True)
    for queued in jobs:
        queued.refresh()
        assert queued.get_status() == "finished", queued.latest_result().exc_string
    return [queued.return_value() for queued in jobs]


def test_two_jobs_load_the_default_rulebook_once_in_the_worker_not_in_each_horse(make_account, loads):
    acme = make_account()
    assert _run_jobs((acme.account.id,), (acme.account.id,)) == ["normal", "normal"]
    assert loads() == [os.getpid()]  # the worker itself, before its first fork


def test_a_version_saved_between_jobs_applies_to_the_next_one(make_account, loads):
    acme = make_account()
    assert _run_jobs((acme.account.id,)) == ["normal"]
    save_version(acme.account, urgent_new_jobs(), author=acme.user)
    assert _run_jobs((acme.account.id,), (acme.account.id,)) == ["urgent", "urgent"]
    assert loads() == [os.getpid(), os.getpid()]  # the default, then the saved version: each once


def inherited():
    """A job (undecorated: it looks before an app is found): whether this work horse started with
    the default rulebook loaded and an app built by its parent."""
    from worker import jobs

    return {"rulebook": bool(current._file_cache), "app": os.getppid() in jobs._apps}


def test_stock_rq_with_the_docket_worker_class_forks_horses_that_inherit_the_rulebook(
    make_account, worker_env, settings
):
    acme = make_account()
    queue = get_queue()
    queued = [queue.enqueue(inherited), queue.enqueue(priority_of_new_jobs, acme.account.id)]
    command = ["worker", "--burst", "-w", "worker.DocketWorker", "--url", settings["REDIS_URL"], settings["QUEUE_NAME"]]
    result = subprocess.run(
        [sys.executable, "-m", "rq.cli", *command],
        cwd=ROOT,
        env=worker_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for each in queued:
        each.refresh()
        assert each.get_status() == "finished", each.latest_result().exc_string
    assert queued[0].return_value() == {"rulebook": True, "app": True}
