"""Pipeline throughput on the embedded defaults: events from POST /api/events to tasks with one
worker, beside RQ's own rate for no-op jobs (one job per event) on the same Redis.

Targets (issue 2): at least 3x RQ's no-op rate, and 10,000 events end to end in under a minute.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS = int(os.environ.get("BENCH_EVENTS", "10000"))


def _event(i):
    """A realistic mix: moves into stages (Ready to Schedule), schedules that resolve them, new jobs."""
    t = f"2026-11-28T{9 + (i // 3600) % 10:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z"
    app = {"id": f"app-{i // 2}"}
    candidate = {
        "id": f"cand-{i // 2}",
        "name": f"Candidate {i // 2}",
        "coordinator": {"email": f"coordinator{i // 2 % 7}@bench.test", "name": f"Coordinator {i // 2 % 7}"},
    }
    job = {
        "id": f"job-{i % 50}",
        "name": f"Job {i % 50}",
        "coordinator": {"email": f"coordinator{i % 50 % 5}@bench.test", "name": f"Coordinator {i % 50 % 5}"},
    }
    stage = {"id": f"stage-{i % 50}-onsite", "name": "Onsite", "scheduling_enabled": True}
    if i % 10 == 9:
        return {"id": f"e{i}", "type": "job.created", "occurred_at": t, "data": {"job": dict(job, id=f"job-new-{i}")}}
    if i % 2 == 0:
        data = {"application": app, "candidate": candidate, "job": job, "stage": stage}
        return {"id": f"e{i}", "type": "application.stage_changed", "occurred_at": t, "data": data}
    data = {
        "schedule": {"id": f"s{i}"},
        "application": app,
        "candidate": candidate,
        "job": job,
        "stage": stage,
        "actor": {"email": "coordinator1@bench.test", "name": "Coordinator 1"},
        "changes": {},
    }
    return {"id": f"e{i}", "type": "schedule.created", "occurred_at": t, "data": data}


def _env(folder, redis_url, queue):
    env = dict(os.environ)
    env.update(
        DOCKET_ENV="development",
        DATABASE_URL=f"sqlite:///{folder / 'bench.db'}",
        REDIS_URL=redis_url,
        DOCKET_QUEUE=queue,
        RULES_PATH=str(ROOT / "rules.yaml"),
        PYTHONPATH=str(ROOT),
    )
    return env


def rq_noop_rate(redis_url, n, worker_class="rq.Worker"):
    """Jobs per second of an RQ worker running n no-op jobs (one job per event).

    rq.Worker (what `python -m worker` runs) forks a work horse per job;
    rq.SimpleWorker runs jobs in its own process.
    """
    import redis
    from rq import Queue

    connection = redis.Redis.from_url(redis_url)
    queue = Queue("bench-noop", connection=connection)
    queue.empty()
    for _ in range(n):
        queue.enqueue("worker.jobs.noop", result_ttl=0)
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "rq.cli",
            "worker",
            "--burst",
            "--url",
            redis_url,
            "-w",
            worker_class,
            "-q",
            "bench-noop",
        ],
        cwd=ROOT,
        check=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    return n / (time.perf_counter() - started)


def pipeline_rate(folder, redis_url, n):
    """Post n events through the API while one worker runs; time from the first POST to the last task."""
    queue = "bench-docket"
    env = _env(folder, redis_url, queue)
    os.environ.update({k: env[k] for k in ("DOCKET_ENV", "DATABASE_URL", "REDIS_URL", "DOCKET_QUEUE", "RULES_PATH")})
    from webapp import create_app
    from webapp.db import migrate
    from webapp.models import Account, ApiToken, Event, Task, User

    app = create_app()
    with app.app_context():
        migrate()
        account = Account.create(name="Bench")
        token = ApiToken.issue(User.for_email(account, "bench@bench.test", "Bench"))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        time.sleep(2)  # let the worker start, as it would be in production
        post_times = []
        started = time.perf_counter()
        for i in range(n):
            t0 = time.perf_counter()
            response = client.post("/api/events", json=_event(i), headers=headers)
            post_times.append(time.perf_counter() - t0)
            assert response.status_code == 202, response.get_json()
        posted = time.perf_counter() - started
        with app.app_context():
            while pending := Event.select().where(Event.status == "pending").count():
                if time.perf_counter() - started > 600:
                    raise RuntimeError(f"{pending} events still pending after 10 minutes")
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            failed = Event.select().where(Event.status == "failed").count()
            tasks = Task.select().count()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    post_times.sort()
    return {
        "elapsed": elapsed,
        "posted": posted,
        "failed": failed,
        "tasks": tasks,
        "post_p50_ms": post_times[len(post_times) // 2] * 1000,
        "post_p95_ms": post_times[int(len(post_times) * 0.95)] * 1000,
    }


def main():
    from webapp.embedded_redis import EmbeddedRedis

    with tempfile.TemporaryDirectory(prefix="docket-bench-") as tmp:
        folder = Path(tmp)
        with EmbeddedRedis(folder / "redis.sock", persist=False) as redis_server:
            print("measuring RQ's no-op rates…", flush=True)
            noop = rq_noop_rate(redis_server.url, 200)
            noop_simple = rq_noop_rate(redis_server.url, 2000, "rq.SimpleWorker")
            print(f"posting {EVENTS} events…", flush=True)
            result = pipeline_rate(folder, redis_server.url, EVENTS)
    rate = EVENTS / result["elapsed"]
    print("Pipeline (embedded defaults: SQLite + embedded Redis, one worker)")
    print(f"  events posted:                 {EVENTS}")
    print(f"  POST /api/events:              p50 {result['post_p50_ms']:.1f} ms, p95 {result['post_p95_ms']:.1f} ms")
    print(f"  all posted after:              {result['posted']:.1f} s")
    print(f"  all processed after:           {result['elapsed']:.1f} s  (target: under 60 s)")
    print(f"  end-to-end rate:               {rate:.0f} events/s")
    print(f"  failed events:                 {result['failed']}   tasks written: {result['tasks']}")
    print(f"  RQ no-op jobs, same Redis:     {noop:.1f} jobs/s with rq.Worker (forks per job, as our worker does)")
    print(f"                                 {noop_simple:.0f} jobs/s with rq.SimpleWorker (no fork)")
    print(
        f"  ratio to RQ's own rate:        {rate / noop:.1f}x rq.Worker (target: at least 3x), "
        f"{rate / noop_simple:.1f}x rq.SimpleWorker"
    )


if __name__ == "__main__":
    main()
