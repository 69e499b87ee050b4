"""gunicorn.conf.py as gunicorn itself loads it: every name a real setting, values from the
environment, and a server started with it that answers its probes."""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from gunicorn.app.wsgiapp import WSGIApplication

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def _load(monkeypatch, **environ):
    for name in ("PORT", "WEB_CONCURRENCY", "WEB_THREADS", "WEB_TIMEOUT", "WEB_GRACEFUL_TIMEOUT", "BIND_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", ["gunicorn", "-c", str(CONF), "wsgi:app"])
    return WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]")


def test_every_name_in_the_file_is_a_gunicorn_setting(monkeypatch):
    application = _load(monkeypatch)
    names = {k for k in application.get_config_from_filename(str(CONF)) if not k.startswith("_")}
    names -= {"multiprocessing", "os"}
    assert names <= set(application.cfg.settings), names - set(application.cfg.settings)


def test_the_defaults(monkeypatch):
    import multiprocessing

    cfg = _load(monkeypatch).cfg
    assert cfg.bind == ["0.0.0.0:5000"]
    assert cfg.workers == 2 * multiprocessing.cpu_count() + 1
    assert cfg.worker_class_str == "gthread" and cfg.threads == 16
    assert cfg.preload_app is True
    assert cfg.timeout == 30 and cfg.graceful_timeout == 30 and cfg.keepalive == 5
    assert cfg.accesslog == "-" and "%(M)sms" in cfg.access_log_format


def test_the_environment_sets_port_processes_and_threads(monkeypatch):
    cfg = _load(monkeypatch, PORT="8123", WEB_CONCURRENCY="3", WEB_THREADS="4", WEB_TIMEOUT="60").cfg
    assert cfg.bind == ["0.0.0.0:8123"]
    assert (cfg.workers, cfg.threads, cfg.timeout) == (3, 4, 60)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_gunicorn_started_with_it_answers_its_probes(worker_env, app):
    port = _free_port()
    env = {**worker_env, "PORT": str(port), "BIND_ADDRESS": "127.0.0.1", "WEB_CONCURRENCY": "2", "WEB_THREADS": "2"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(CONF), "wsgi:app"],
        cwd=CONF.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stdout.read().decode()[-2000:]
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            assert response.status == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=40)[0].decode()
    assert server.returncode == 0, output[-2000:]
    assert '"GET /readyz HTTP/1.1" 200' in output  # the access log, in its format
