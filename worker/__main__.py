"""`python -m worker [--burst]`: an RQ worker on Docket's queue, with the inbox sweeper beside it.

The worker outlives Redis: when Redis stops answering (RQ's own loop quits on a lost connection,
even mid-job while it watches the work horse), the horse is stopped (its batch's transaction rolls
back; the inbox keeps every event) and the worker reconnects with a growing pause, up to
MAX_BACKOFF_SECONDS, until Redis is back. A database outage fails only the job of the moment;
the sweeper asks again for what is left.
"""

import argparse
import logging
import os
import signal
import threading
import time

import redis
from rq import Worker

from webapp import create_app
from webapp.calendars.sync import enqueue_due_calendar_work
from webapp.db import database
from webapp.integrations.sync import enqueue_due_syncs
from webapp.pipeline import has_due_events
from webapp.queue import get_queue, redis_connection, request_drain

log = logging.getLogger("worker")

# Held by the sweeper while it works, and by RQ's fork of a work horse (os.register_at_fork): a
# horse forked while the sweeper is inside a library call (connecting to PostgreSQL, say) would
# inherit a lock that nobody releases, and hang for good.
_SWEEPING = threading.Lock()


def sweep_forever(app, stop, interval):
    """Wake a worker for rows left pending (Redis was down when they came, a worker died, a retry is due)."""
    with app.app_context():
        while not stop.wait(interval):
            with _SWEEPING:
                try:
                    _sweep()
                except Exception:  # the sweeper must outlive a database or Redis outage
                    log.exception("sweep failed; trying again in %ss", interval)


def _sweep():
    """One round: a drain for due rows, then the syncs and calendar work whose turn has come."""
    with database.connection_context():
        due = has_due_events()
    if due:
        request_drain()
    with database.connection_context():
        enqueue_due_syncs()  # ATS syncs whose turn has come (every few minutes)
    with database.connection_context():
        # Calendars: watches to open or renew, reconciliation (every calendar within 15 minutes).
        enqueue_due_calendar_work()


FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30


class DocketWorker(Worker):
    """RQ's forking worker, made to stop its work horse when it loses Redis while watching it."""

    def execute_job(self, job, queue):
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
        if not args.burst:
            os.register_at_fork(
                before=_SWEEPING.acquire, after_in_parent=_SWEEPING.release, after_in_child=_SWEEPING.release
            )
            interval = app.config["SWEEP_INTERVAL_SECONDS"]
            threading.Thread(target=sweep_forever, args=(app, stop, interval), daemon=True).start()
        try:
            work(get_queue, args.burst, stop)
        finally:
            stop.set()


if __name__ == "__main__":
    main()
