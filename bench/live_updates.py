"""How soon a task shows on a coordinator's open list after its event is posted: POST /api/events
to the row visible in Chromium (Playwright), events one after another, each waited for.

Two figures from the same run: pushed (the page follows /tasks/stream; its poll is left at the
default) and polled only (the stream refused, as when it fails: the page's poll alone). The app is
served by werkzeug's threaded server in this process, one `python -m worker` drains the inbox, on
SQLite and an embedded Redis in a temporary folder. Beside them, the worker's share of the pushed
figure: from the event's inbox row to its processing (the rest is the push and the page's refresh).
"""

from __future__ import annotations

import logging
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
PUSHED_EVENTS = int(os.environ.get("BENCH_LIVE_EVENTS", "50"))
POLLED_EVENTS = int(os.environ.get("BENCH_LIVE_POLLED_EVENTS", "10"))
TARGET_P95_SECONDS = 1.0
PASSWORD = "bench password"
STREAM_OPEN = 'document.addEventListener("htmx:sseOpen", () => { document.documentElement.dataset.stream = "open"; });'


def _percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _job_created(i, coordinator):
    return {
        "id": f"live-bench-{coordinator}-{i}",
        "source": "api",
        "type": "job.created",
        "occurred_at": "2026-12-01T10:00:00Z",
        "data": {
            "job": {
                "id": f"job-{coordinator}-{i}",
                "name": f"Bench job {i}",
                "coordinator": {"email": coordinator, "name": "Bench"},
            }
        },
    }


def _setup(app):
    """An account whose first coordinator signs in; a second coordinator; an API token."""
    from webapp.db import migrate
    from webapp.models import Account, AccountCreator, ApiToken, User

    with app.app_context():
        migrate()
        account = Account.create(name="Live bench")
        me = User.for_email(account, "me@bench.test", "Me")
        me.set_password(PASSWORD)
        me.save()
        AccountCreator.create(account=account, user=me)
        User.for_email(account, "colleague@bench.test", "Colleague")
        return ApiToken.issue(me)


def time_to_visible(page, base_url, token, events, coordinator, spread_seconds=0):
    """For each event in turn, seconds from sending its POST to its row being visible on the page;
    each POST after a random pause of up to spread_seconds (events arrive at any point of a poll's cycle)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    latencies = []
    pauses = random.Random(13)
    for i in range(events):
        time.sleep(pauses.uniform(0, spread_seconds))
        row = page.locator("#task-rows tr.task", has_text=re.compile(rf"Bench job {i}\b"))
        started = time.perf_counter()
        response = session.post(f"{base_url}/api/events", json=_job_created(i, coordinator), timeout=30)
        assert response.status_code == 202, response.text
        row.wait_for(state="visible", timeout=60_000)
        latencies.append(time.perf_counter() - started)
    return latencies


def _processing_seconds(app, prefix):
    """For the events whose id starts with prefix: seconds from the inbox's row to it processed."""
    from webapp.models import Event

    with app.app_context():
        rows = Event.select().where(Event.external_id.startswith(prefix))
        return [(row.processed_at - row.received_at).total_seconds() for row in rows]


def measure(folder):
    from playwright.sync_api import sync_playwright

    from webapp import create_app
    from webapp.embedded_redis import EmbeddedRedis

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request

    with EmbeddedRedis(folder / "redis.sock", persist=False) as redis_server:
        database_url = f"sqlite:///{folder / 'live.db'}"
        settings = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_server.url,
            "QUEUE_NAME": "bench-live",
            "RULES_PATH": str(ROOT / "rules.yaml"),
            "SECRET_KEY": "bench",
            "LIVE_HEARTBEAT_SECONDS": 1,  # so that a stream ends soon after the browser closed
        }
        app = create_app(settings)
        poll_seconds = app.config.get("TASKS_POLL_SECONDS", 5)
        token = _setup(app)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base_url = f"http://127.0.0.1:{server.server_port}"
        env = dict(
            os.environ,
            DOCKET_ENV="development",
            DATABASE_URL=database_url,
            REDIS_URL=redis_server.url,
            DOCKET_QUEUE="bench-live",
            RULES_PATH=settings["RULES_PATH"],
            PYTHONPATH=str(ROOT),
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "worker"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        results = {}
        try:
            time.sleep(2)  # the worker is up, as in production
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
                context = browser.new_context(base_url=base_url)
                context.add_init_script(STREAM_OPEN)
                page = context.new_page()
                page.goto("/login")
                page.get_by_label("E-mail").fill("me@bench.test")
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.locator("html[data-stream=open]").wait_for(state="attached")
                results["pushed"] = time_to_visible(page, base_url, token, PUSHED_EVENTS, "me@bench.test")

                polled = context.new_page()
                polled.route("**/tasks/stream", lambda route: route.fulfill(status=503, body="refused"))
                polled.goto("/tasks?assignee=colleague@bench.test")
                results["polled only"] = time_to_visible(
                    polled, base_url, token, POLLED_EVENTS, "colleague@bench.test", spread_seconds=poll_seconds
                )
                browser.close()
                time.sleep(1.5)
            results["of which, worker"] = _processing_seconds(app, "live-bench-me@")
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            server.shutdown()
    return results, poll_seconds


def main():
    with tempfile.TemporaryDirectory(prefix="docket-bench-live-") as tmp:
        print("event to visible task: posting events one after another to an open list…", flush=True)
        results, poll_seconds = measure(Path(tmp))
    report(results, poll_seconds)


def report(results, poll_seconds):
    print(f"Event to visible task (POST /api/events to the row on an open page, Chromium; poll every {poll_seconds} s)")
    print(f"  {'page':<18} {'events':>6} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    for name, latencies in results.items():
        p50, p95 = statistics.median(latencies), _percentile(latencies, 0.95)
        print(f"  {name:<18} {len(latencies):>6} {p50:>7.2f} {p95:>7.2f} {max(latencies):>7.2f}")
    p95 = _percentile(results["pushed"], 0.95)
    verdict = "met" if p95 < TARGET_P95_SECONDS else "NOT met"
    print(f"  target: pushed p95 < {TARGET_P95_SECONDS:.0f} s: {verdict} ({p95:.2f} s)")


if __name__ == "__main__":
    main()
