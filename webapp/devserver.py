"""`make run`: embedded Redis, one worker and the web app in one terminal; Ctrl-C stops them all."""

import os
import signal
import subprocess
import sys
import threading

from .config import DEFAULT_REDIS_SOCKET, VAR
from .demo import play_live
from .embedded_redis import EmbeddedRedis


def run_all(app, port):
    redis_server = None
    env = dict(os.environ)
    if app.config["REDIS_URL"] == f"unix://{DEFAULT_REDIS_SOCKET}":
        redis_server = EmbeddedRedis(DEFAULT_REDIS_SOCKET, data_dir=VAR).start()
        print(f" * embedded Redis at {redis_server.url}", flush=True)
    worker = subprocess.Popen([sys.executable, "-m", "worker"], env=env)
    print(f" * worker started (pid {worker.pid})", flush=True)
    # The demo keeps living: a candidate moves or is scheduled every so often.
    stop_demo = threading.Event()
    threading.Thread(target=play_live, args=(app, stop_demo), daemon=True).start()

    def stop(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        app.run(host="127.0.0.1", port=port, debug=False, use_reloader=False, threaded=True)
    except KeyboardInterrupt:
        pass
    finally:
        stop_demo.set()
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
        if redis_server:
            redis_server.stop()
        print(" * stopped", flush=True)
