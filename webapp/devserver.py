"""`make run`: embedded Redis, one worker and the web app in one terminal; Ctrl-C stops them all."""

import os
import signal
import subprocess
import sys
import threading
import time

from werkzeug.serving import run_simple

from .config import DEFAULT_REDIS_SOCKET, VAR
from .db import database
from .demo import CREDENTIALS_FILE, DEMO_ACCOUNT, load_demo, play_live
from .embedded_redis import EmbeddedRedis
from .models import Account


def _load_demo_once(app):
    """The demo account on first run (its events wait in the inbox for the worker); its sign-ins every run."""
    with app.app_context(), database.connection_context():
        if Account.get_or_none(Account.name == DEMO_ACCOUNT) is None:
            load_demo(app.config.get("DEMO_CREDENTIALS_FILE") or CREDENTIALS_FILE)
            print(f" * demo account {DEMO_ACCOUNT!r} created", flush=True)
    credentials = app.config.get("DEMO_CREDENTIALS_FILE") or CREDENTIALS_FILE
    if os.path.exists(credentials):
        print(f" * demo sign-ins (also in {credentials}):", flush=True)
        with open(credentials) as lines:
            for line in lines:
                print(f"     {line.rstrip()}", flush=True)


WORKER_RESTART_FIRST_SECONDS = 1
WORKER_RESTART_MAX_SECONDS = 30


class WorkerSupervisor:
    """Keeps one `python -m worker` running: a worker that exits (a crash, an OOM kill) is started
    again, after a pause that grows while it keeps exiting soon after starting."""

    def __init__(self, command=None, env=None):
        self.command = command or [sys.executable, "-m", "worker"]
        self.env = env or dict(os.environ)
        self.process = None
        self.restarts = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self):
        self._spawn()
        self._thread.start()
        return self

    def _spawn(self):
        # Its own session, like Redis's: Ctrl-C reaches only us, and we stop the worker before Redis.
        with self._lock:
            if not self._stopping.is_set():
                self.process = subprocess.Popen(self.command, env=self.env, start_new_session=True)
                print(f" * worker started (pid {self.process.pid})", flush=True)

    def _watch(self):
        pause = WORKER_RESTART_FIRST_SECONDS
        while not self._stopping.is_set():
            started = time.monotonic()
            code = self.process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started > WORKER_RESTART_MAX_SECONDS:
                pause = WORKER_RESTART_FIRST_SECONDS  # it had been running: a fresh failure
            print(f" * worker exited ({code}); starting another in {pause}s", flush=True)
            if self._stopping.wait(pause):
                return
            pause = min(pause * 2, WORKER_RESTART_MAX_SECONDS)
            self.restarts += 1
            self._spawn()

    def stop(self, timeout=15):
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)  # gone, not left running past the server


def run_all(app, port, demo=True):
    """Start Redis (embedded, unless REDIS_URL names one), a worker and the web app; stop all on Ctrl-C."""
    redis_server = None
    if app.config["REDIS_URL"] == f"unix://{DEFAULT_REDIS_SOCKET}":
        redis_server = EmbeddedRedis(DEFAULT_REDIS_SOCKET, data_dir=VAR).start()
        print(f" * embedded Redis at {redis_server.url}", flush=True)
    if demo:
        _load_demo_once(app)
    worker = WorkerSupervisor().start()
    stop_demo = threading.Event()
    if demo:
        # The demo keeps living: a candidate moves or is scheduled every so often.
        threading.Thread(target=play_live, args=(app, stop_demo), daemon=True).start()

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)  # also when started where SIGINT was ignored
    print(f" * Docket at http://127.0.0.1:{port} (Ctrl-C stops everything)", flush=True)
    try:
        # Not app.run(): Flask ignores it inside a `flask` command.
        run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False, use_debugger=False)
    except KeyboardInterrupt:
        pass
    finally:
        stop_demo.set()
        worker.stop()
        if redis_server:
            redis_server.stop()
        print(" * stopped", flush=True)
