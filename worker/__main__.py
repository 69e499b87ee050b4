"""`python -m worker [--burst]`: an RQ worker on Docket's queue, with the inbox sweeper beside it."""

import argparse
import logging
import os
import threading

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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m worker", description=__doc__)
    parser.add_argument("--burst", action="store_true", help="process what is pending, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    app = create_app({"DATABASE_POOL": False})
    with app.app_context():
        connection = redis_connection()
        # A previous worker may have died holding the flag: ask for a drain regardless.
        request_drain(connection, force=True)
        stop = threading.Event()
        if not args.burst:
            os.register_at_fork(
                before=_SWEEPING.acquire, after_in_parent=_SWEEPING.release, after_in_child=_SWEEPING.release
            )
            interval = app.config["SWEEP_INTERVAL_SECONDS"]
            threading.Thread(target=sweep_forever, args=(app, stop, interval), daemon=True).start()
        try:
            Worker([get_queue(connection)], connection=connection).work(burst=args.burst)
        finally:
            stop.set()


if __name__ == "__main__":
    main()
