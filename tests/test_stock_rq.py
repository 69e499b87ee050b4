"""Stock RQ runs Docket's jobs: each job builds its app from the environment, so `rq worker` and
`rq worker-pool` on any host that shares DATABASE_URL and REDIS_URL turn events into tasks, not
only `python -m worker`."""

import subprocess
import sys
import time

import pytest

from tests import events as ev
from tests.conftest import ROOT
from webapp.models import Event, Task

pytestmark = pytest.mark.slow


def _post_three(acme):
    for n in range(3):
        candidate = dict(ev.CANDIDATE, id=f"cand-{n}", name=f"Candidate {n}")
        assert acme.post_event(ev.stage_changed(application={"id": f"app-{n}"}, candidate=candidate)).status_code == 202


@pytest.mark.parametrize(
    "command",
    [["worker", "--burst"], ["worker-pool", "--burst", "--num-workers", "2"]],
    ids=["rq worker", "rq worker-pool"],
)
def test_stock_rq_turns_events_into_tasks(make_account, app, worker_env, settings, command):
    acme = make_account()
    _post_three(acme)
    result = subprocess.run(
        [sys.executable, "-m", "rq.cli", *command, "--url", settings["REDIS_URL"], settings["QUEUE_NAME"]],
        cwd=ROOT,
        env=worker_env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert Event.select().where(Event.status == Event.PROCESSED).count() == 3
    titles = sorted(task.title for task in Task.select())
    assert titles == [f"Candidate {n} — {ev.ONSITE['name']}" for n in range(3)]


def test_stock_rq_cron_schedules_the_sweep_that_picks_up_a_row_nobody_queued(make_account, app, worker_env, settings):
    """Periodic work goes through RQ itself: `rq cron worker/cron.py` queues the sweep, a stock
    worker runs it, and a row left pending with no wake-up call (Redis was down when it came) is processed."""
    from tests.helpers import left_pending, stop_worker

    acme = make_account()
    stranded = left_pending(acme.account, "job-stranded")
    env = {**worker_env, "SWEEP_INTERVAL_SECONDS": "1"}
    url = ["--url", settings["REDIS_URL"]]
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "rq.cli", *command],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for command in (["cron", "worker/cron.py", *url], ["worker", *url, settings["QUEUE_NAME"]])
    ]
    try:
        deadline = time.monotonic() + 60
        while Event.get_by_id(stranded.id).status != Event.PROCESSED and time.monotonic() < deadline:
            time.sleep(0.2)
        assert Event.get_by_id(stranded.id).status == Event.PROCESSED
        assert [t.category for t in Task.select()] == ["New Job"]
    finally:
        for process in started:
            stop_worker(process)
