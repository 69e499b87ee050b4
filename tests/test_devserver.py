"""`make run`'s server: the demo, a worker and the web app come up together and stop together."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT
from tests.helpers import wait_for


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read()
    except OSError:
        return None, b""


@pytest.mark.slow
def test_serve_starts_the_demo_a_worker_and_the_web_app_and_ctrl_c_stops_them(worker_env, tmp_path, app):
    port = _free_port()
    env = {**worker_env, "DEMO_CREDENTIALS_FILE": str(tmp_path / "demo.txt"), "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "serve", "--demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline:
            status, body = _get(f"http://127.0.0.1:{port}/api/health")
            if status == 200 and json.loads(body)["workers"] >= 1:
                health = json.loads(body)
                break
            time.sleep(0.5)
        assert health == {"database": "ok", "redis": "ok", "workers": health["workers"], "status": "ok"}
        assert _get(f"http://127.0.0.1:{port}/login")[0] == 200
        assert "alex.kim@acme.test" in (tmp_path / "demo.txt").read_text()
    finally:
        os.kill(server.pid, signal.SIGINT)  # what Ctrl-C sends
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output[-2000:]
    assert "* stopped" in output
    worker_pid = int(re.search(r"worker started \(pid (\d+)\)", output).group(1))
    assert wait_for(lambda: not _alive(worker_pid), seconds=20)  # the worker stopped with the server
    assert _get(f"http://127.0.0.1:{port}/login")[0] is None


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_serve_starts_another_worker_when_its_worker_exits(worker_env, app):
    from webapp.devserver import WorkerSupervisor

    supervisor = WorkerSupervisor(env={**worker_env, "PYTHONPATH": str(ROOT)}).start()
    try:
        first = supervisor.process
        time.sleep(1)
        os.killpg(first.pid, signal.SIGKILL)  # as the OOM killer would
        deadline = time.monotonic() + 30
        while supervisor.process is first and time.monotonic() < deadline:
            time.sleep(0.1)
        assert supervisor.process is not first and supervisor.restarts == 1
        assert supervisor.process.poll() is None
    finally:
        supervisor.stop()
    assert supervisor.process.wait(timeout=15) is not None  # stopped with the server, not started again
    time.sleep(1.5)
    assert supervisor.restarts == 1
