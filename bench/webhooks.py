"""How fast Docket acknowledges what it is sent, under gunicorn at a steady rate while a worker
drains a backlog, beside a bare Flask route under the same gunicorn on the same machine; and the
end-to-end rate of events posted over HTTP by several clients at once.

Latencies are measured by the client from sending a request to reading its answer; requests
leave on a fixed schedule (RATE per second), each on its own connection pool's thread.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench import mix, throughput

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
RATE = int(os.environ.get("BENCH_RATE", "200"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "8"))
SECRET = "bench-greenhouse-secret"
SAMPLE = HERE / "payloads" / "greenhouse_candidate_stage_change.json"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn serving an app on a free port with the project's gunicorn.conf.py and two worker
    processes, until stopped: Docket and the bare route are served alike."""

    def __init__(self, app_spec, env, cwd=ROOT):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(env, BIND_ADDRESS="127.0.0.1", PORT=str(self.port), WEB_CONCURRENCY="2")
        command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
        self.process = subprocess.Popen(
            [*command, app_spec], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError(f"gunicorn did not start for {app_spec}")
        for _ in range(20):  # both processes up and warm before anything is measured
            requests.get(self.url + "/", timeout=30)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def _session(local):
    """This thread's requests session (one connection pool per client thread)."""
    if not hasattr(local, "session"):
        local.session = requests.Session()
    return local.session


def steady_load(make_request, rate=RATE, seconds=SECONDS):
    """Send rate requests per second for the given seconds; returns each answer's latency (ms),
    sorted, and the statuses seen."""
    count = int(rate * seconds)
    latencies, statuses, lock = [], {}, threading.Lock()
    local = threading.local()

    def one(i, due):
        time.sleep(max(0.0, due - time.perf_counter()))
        started = time.perf_counter()
        response = make_request(_session(local), i)
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            latencies.append(elapsed)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    start = time.perf_counter() + 0.2
    with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
        for future in [pool.submit(one, i, start + i / rate) for i in range(count)]:
            future.result()
    return sorted(latencies), statuses


def _percentile(values, share):
    return values[min(len(values) - 1, int(len(values) * share))]


def _greenhouse_body(i):
    body = json.loads(SAMPLE.read_text())
    application = body["payload"]["application"]
    application["id"] = 900000 + i  # a new delivery each time: the body's digest names it
    return json.dumps(body).encode()


def _signed(body):
    return "sha256 " + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


@contextlib.contextmanager
def docket(folder, name, backlog=(), backend="sqlite"):
    """Docket served by gunicorn with one worker running, the backlog pending in its inbox: on
    SQLite and an embedded Redis of its own, or on a fresh PostgreSQL database and the machine's
    Redis (a queue of its own); yields (app, account, API token, server)."""
    from webapp.embedded_redis import EmbeddedRedis
    from webapp.models import Account, ApiToken, User

    with contextlib.ExitStack() as stack:
        if backend == "postgresql":
            pg_name = f"docket_bench_web_{name}_{os.getpid()}"
            database_url, redis_url = throughput._pg_database(pg_name), throughput.PG_REDIS_URL
            stack.callback(throughput._pg_database, pg_name, drop=True)
            stack.callback(_close_database)
        else:
            redis_server = stack.enter_context(EmbeddedRedis(folder / f"{name}-redis.sock", persist=False))
            database_url, redis_url = f"sqlite:///{folder / f'{name}.db'}", redis_server.url
        queue = f"bench-{name}-{os.getpid()}"
        env = dict(throughput.app_env(database_url, redis_url, queue), SECRET_KEY="bench")
        app = throughput.make_app(database_url, redis_url, queue)
        account_id = throughput.load_inbox(app, list(backlog))
        with app.app_context():
            account = Account.get_by_id(account_id)
            token = ApiToken.issue(User.for_email(account, "bench@bench.test"))
        server = Gunicorn("wsgi:app", env)
        worker = subprocess.Popen(
            [sys.executable, "-m", "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            yield app, account, token, server
        finally:
            try:
                _stop_worker(worker)
            finally:
                server.stop()  # even when the worker would not stop: no gunicorn outlives the run


def _close_database():
    from webapp.db import database

    database.close()


def _stop_worker(worker):
    """Stop the worker: SIGTERM asks RQ to finish its job first; a worker still draining the
    backlog 10 s later gets a second one (RQ's cold shutdown: the batch rolls back)."""
    worker.terminate()
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.terminate()
        worker.wait(timeout=30)


def measure(folder):
    """Latencies at a steady rate: a bare route, then Docket's two doors while a worker drains,
    on SQLite and (when the machine has it) on PostgreSQL."""
    bare = Gunicorn("bare_app:app", dict(os.environ, PYTHONPATH=str(HERE)), cwd=HERE)
    try:
        results = {"bare Flask route": steady_load(lambda s, i: s.get(bare.url + "/", timeout=30))}
    finally:
        bare.stop()
    backends = ["sqlite"] + (["postgresql"] if throughput.postgres_available() else [])
    for backend in backends:
        for door, answers in _doors(folder, backend).items():
            results[f"{door} ({backend})"] = answers
    return results


def _doors(folder, backend):
    from webapp.models import Integration

    results = {}
    with docket(folder, f"web-{backend}", mix.events(3000), backend) as (app, account, token, server):
        with app.app_context():
            Integration.create(account=account, provider="greenhouse", webhook_secret=SECRET)
        webhook_url = f"{server.url}/webhooks/greenhouse/{account.webhook_key}"
        time.sleep(1)  # the worker is draining the backlog
        extra = mix.events(int(RATE * SECONDS) + 1000)
        headers = {"Authorization": f"Bearer {token}"}
        results["POST /api/events"] = steady_load(
            lambda s, i: s.post(
                server.url + "/api/events", json=dict(extra[i], id=f"web-{i}"), headers=headers, timeout=30
            )
        )
        results["signed Greenhouse webhook"] = steady_load(
            lambda s, i: s.post(
                webhook_url,
                data=(body := _greenhouse_body(i)),
                headers={"Signature": _signed(body), "Content-Type": "application/json"},
                timeout=30,
            )
        )
    return results


def end_to_end(folder, events, clients=8):
    """events posted over HTTP by several clients at once while one worker runs: the time from the
    first POST to the last event processed, and the posting alone."""
    from webapp.models import Event

    envelopes = mix.events(events)
    with docket(folder, "e2e") as (app, _, token, server):
        time.sleep(2)  # the worker is up, as in production
        headers = {"Authorization": f"Bearer {token}"}
        local = threading.local()

        def post(envelope):
            response = _session(local).post(server.url + "/api/events", json=envelope, headers=headers, timeout=30)
            assert response.status_code == 202, response.text

        started = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
            list(pool.map(post, envelopes))
        posted = time.perf_counter() - started
        with app.app_context():
            while Event.select().where(Event.status == Event.PENDING).exists():
                if time.perf_counter() - started > 600:
                    raise RuntimeError("events still pending after 10 minutes")
                time.sleep(0.05)
        elapsed = time.perf_counter() - started
    return {"events": events, "clients": clients, "posted_seconds": posted, "elapsed_seconds": elapsed}


def main():
    events = int(os.environ.get("BENCH_EVENTS", "10000"))
    with tempfile.TemporaryDirectory(prefix="docket-bench-web-") as tmp:
        folder = Path(tmp)
        print(f"webhook acknowledgements at {RATE} requests/s for {SECONDS:.0f} s each…", flush=True)
        results = measure(folder)
        print(f"end to end: {events} events posted over HTTP…", flush=True)
        e2e = end_to_end(folder, events)
    report(results, e2e)


def report(results, e2e):
    bare, _ = results["bare Flask route"]
    bare_p50, bare_p99 = _percentile(bare, 0.5), _percentile(bare, 0.99)
    print(f"Acknowledging under gunicorn (2 processes) at {RATE} requests/s, a worker draining a backlog")
    print(f"  {'route':<40} {'p50 ms':>8} {'p99 ms':>8} {'vs bare p50':>12} {'vs bare p99':>12}  answers")
    for name, (latencies, statuses) in results.items():
        p50, p99 = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
        print(f"  {name:<40} {p50:>8.1f} {p99:>8.1f} {p50 / bare_p50:>11.1f}x {p99 / bare_p99:>11.1f}x  {statuses}")
    print()
    rate = e2e["events"] / e2e["elapsed_seconds"]
    print(f"End to end over HTTP ({e2e['clients']} clients posting, gunicorn, one worker, SQLite)")
    print(
        f"  {e2e['events']} events processed {e2e['elapsed_seconds']:.1f} s after the first POST: {rate:.0f} events/s"
    )
    print(f"  posting alone took {e2e['posted_seconds']:.1f} s: {e2e['events'] / e2e['posted_seconds']:.0f} requests/s")


if __name__ == "__main__":
    main()
