"""Stock RQ runs Docket's jobs: each job builds its app from the environment, so `rq worker` and
`rq worker-pool` on any host that shares DATABASE_URL and REDIS_URL turn events into tasks, not
only `python -m worker`."""

import subprocess
import sys

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
