"""`python -m worker [--burst]`: an RQ worker on Docket's queue, with RQ's cron scheduler beside it
in a process of its own (`python -m worker.scheduler`: the periodic sweep of worker/cron.py).

The worker outlives Redis: when Redis stops answering (RQ's own loop quits on a lost connection,
even mid-job while it watches the work horse), the horse is stopped (its batch's transaction rolls
back; the inbox keeps every event) and the worker reconnects with a growing pause, up to
MAX_BACKOFF_SECONDS, until Redis is back. A database outage fails only the job of the moment;
the next sweep asks again for what is left.
"""

import argparse
import logging
import signal
import subprocess
import sys
import threading
import time

import redis
from rq import Worker

from webapp import create_app
from webapp.queue import get_queue, redis_connection, request_drain
from worker.jobs import prepare_for_jobs

log = logging.getLogger("worker")

FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30


class DocketWorker(Worker):
    """RQ's forking worker, made to stop its work horse when it loses Redis while watching it."""

    def execute_job(self, job, queue):
        prepare_for_jobs()  # the horse it forks inherits the app and the rulebooks in force
        try:
            return super().execute_job(job, queue)
        except redis.RedisError:
            if self.horse_pid:  # RQ stopped watching it: it must not live on unwatched
                self.kill_horse(signal.SIGKILL)
                self.wait_for_horse()
            raise

    def teardown(self):
        try:
            super().teardown()
        except redis.RedisError as exc:  # it tells Redis the worker is gone: Redis may be gone too
            log.warning("could not tell Redis that worker %s stopped: %s", self.name, exc)

    @property
    def stop_asked(self):
        return bool(self._shutdown_requested_date or self._stop_requested)


def work(queue_factory, burst, stop, sleep=None):
    """Run RQ workers one after another until stopped or, with `burst`, until the queue is empty.

    RQ's loop quits on any error it does not expect (a lost connection among them) as quietly as
    on a stop; what tells them apart is whether a stop was asked for (or, in a burst, whether
    anything is left to do).
    """
    sleep = sleep or stop.wait
    backoff = FIRST_BACKOFF_SECONDS
    while not stop.is_set():
        worker, started = None, time.monotonic()
        try:
            connection = redis_connection()
            connection.ping()
            # A previous worker may have died holding the flag: ask for a drain regardless.
            request_drain(connection, force=True)
            queue = queue_factory(connection)
            worker = DocketWorker([queue], connection=connection)
            worker.work(burst=burst)
            if worker.stop_asked or (burst and queue.count == 0):
                return
            reason = "the worker's loop quit"
        except redis.RedisError as exc:
            if worker is not None and worker.stop_asked:
                return
            reason = f"Redis is unreachable ({exc})"
        if time.monotonic() - started > MAX_BACKOFF_SECONDS:
            backoff = FIRST_BACKOFF_SECONDS  # it had been working: this is a new outage
        log.warning("%s; starting again in %.1fs", reason, backoff)
        _stop_on_signals(stop)
        sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)


def _stop_on_signals(stop):
    """While no RQ worker runs, SIGTERM and SIGINT end the reconnecting (RQ installs its own again)."""

    def handler(*_):
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m worker", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="process what is pending, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    app = create_app({"DATABASE_POOL": False})
    with app.app_context():
        stop = threading.Event()
        scheduler = None if args.burst else subprocess.Popen([sys.executable, "-m", "worker.scheduler"])
        try:
            work(get_queue, args.burst, stop)
        finally:
            stop.set()
            if scheduler is not None:
                scheduler.terminate()
                try:
                    scheduler.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    scheduler.kill()


if __name__ == "__main__":
    main()
