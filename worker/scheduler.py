"""`python -m worker.scheduler`: RQ's cron scheduler on worker/cron.py, as `python -m worker` starts
it beside its RQ worker (a process of its own, not a thread in the worker).

It outlives Redis as the worker does (it starts again with a growing pause while Redis is away),
and ends with the worker that started it (the kernel tells it when its parent dies).
"""

import ctypes
import logging
import signal
import time

import redis
from rq.cron import CronScheduler

from webapp.config import Config

log = logging.getLogger("worker.scheduler")

FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30
PR_SET_PDEATHSIG = 1


def end_with_parent():
    """Ask Linux to send SIGTERM when the parent process dies (elsewhere: a no-op)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    end_with_parent()
    url = Config().REDIS_URL
    backoff = FIRST_BACKOFF_SECONDS
    while True:
        started = time.monotonic()
        try:
            scheduler = CronScheduler(redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10))
            scheduler.load_config_from_file("worker.cron")
            scheduler.start()  # until SIGTERM or SIGINT
            return
        except redis.RedisError as exc:
            if time.monotonic() - started > MAX_BACKOFF_SECONDS:
                backoff = FIRST_BACKOFF_SECONDS
            log.warning("cron scheduler: Redis is unreachable (%s); starting again in %.1fs", exc, backoff)
            time.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


if __name__ == "__main__":
    main()
