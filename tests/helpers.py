"""What many tests do: sign in through the real form, read a page's CSRF token, process events."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from webapp.pipeline import drain

ROOT = Path(__file__).resolve().parent.parent

HTMX = {"HX-Request": "true"}
PASSWORD = "correct horse battery"  # make_account's coordinators' password


def csrf_from(html):
    """The CSRF token a page's forms carry."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client, email, password=PASSWORD):
    """Sign in with the form (CSRF and all); returns the token the task list's forms carry."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return csrf_from(client.get("/tasks").get_data(as_text=True))


def sign_in_coordinator(client, account, email="pat@acme.test", name="Pat"):
    """Sign in a coordinator of the account who is not an admin; returns the user."""
    from webapp.models import User

    user = User.for_email(account, email, name)
    user.set_password(PASSWORD)
    user.save()
    sign_in(client, email)
    return user


def process(handle, *envelopes):
    """Post events through the API as the account's coordinator, then process the inbox."""
    for envelope in envelopes:
        assert handle.post_event(envelope).status_code == 202
    drain()


def start_worker(env, burst=False):
    """A real `python -m worker` in a session of its own (so a test can kill it with its work horse)."""
    return subprocess.Popen(
        [sys.executable, "-m", "worker", *(["--burst"] if burst else [])],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_worker(worker, timeout=30):
    """Ask a worker to stop (SIGTERM: RQ's warm shut-down), and kill it if it does not in time."""
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=timeout)
    except subprocess.TimeoutExpired:  # a stuck worker must not outlive the test
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def wait_for(condition, seconds=45, step=0.05):
    """Poll `condition` until it holds (True) or `seconds` have passed (False)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def left_pending(account, job_id, **fields):
    """An inbox row no wake-up call was queued for (Redis was down when it came, or its worker died)."""
    from tests import events as ev
    from webapp.models import Event, to_utc

    envelope = ev.job_event("created", job=dict(ev.JOB, id=job_id))
    return Event.create(
        account=account,
        source="api",
        external_id=envelope["id"],
        type=envelope["type"],
        payload=envelope,
        occurred_at=to_utc(envelope["occurred_at"]),
        **fields,
    )
