"""Jobs the worker runs. They take ids (or nothing), open their own connection, and are idempotent.

Each job finds the app it runs in, or builds one from the environment (DATABASE_URL, REDIS_URL,
DOCKET_QUEUE, …), so any RQ worker runs them: `python -m worker`, and also stock `rq worker
docket` or `rq worker-pool docket -n 4` on hosts that only share the environment.
"""

import functools
import logging
import os

from flask import current_app, has_app_context

from webapp.db import database

log = logging.getLogger(__name__)

_apps = {}  # pid -> the app this process built for its jobs


def app_for_jobs():
    """The app of this process's jobs, built once per process: a forked work horse builds its own,
    unless its parent made one ready for it (prepare_for_jobs)."""
    app = _apps.get(os.getpid())
    if app is None:
        from webapp import create_app

        app = _apps[os.getpid()] = create_app({"DATABASE_POOL": False})
    return app


def prepare_for_jobs():
    """In a worker, before it forks the work horse of a job: the app built and the rulebooks in
    force loaded (webapp/rulebook/current.load_all), so that each horse inherits them rather than
    loading rules.yaml again (~140 ms a job). The database connection is closed again before the
    fork. A saved version still applies from the next batch: batches look up the newest version.
    Never fails: a horse that inherits nothing loads what it needs itself."""
    from webapp.rulebook.current import load_all

    app = current_app._get_current_object() if has_app_context() else app_for_jobs()
    try:
        with app.app_context():
            try:
                load_all()
            finally:
                database.close()
    except Exception:
        log.exception("could not load the rulebooks before a job; its work horse loads them")
        return None
    # The horse of a stock `rq worker -w worker.DocketWorker` builds no app of its own: it finds this one.
    _apps[os.getpid()] = _apps.get(os.getpid(), app)
    return app


def _inherit_parent_app():
    """In a forked work horse: the app its parent made ready for jobs, if any."""
    parent = _apps.get(os.getppid())
    if parent is not None and os.getpid() not in _apps:
        _apps[os.getpid()] = parent


def job(function):
    """Run the job inside an app context: the caller's, or this process's own."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        _inherit_parent_app()
        if has_app_context():
            return function(*args, **kwargs)
        with app_for_jobs().app_context():
            return function(*args, **kwargs)

    return run


@job
def drain_inbox():
    """Process every due row of the inbox, a batch per transaction; returns how many."""
    from webapp.pipeline import drain
    from webapp.queue import clear_drain_flag, redis_connection

    clear_drain_flag(redis_connection())
    with database.connection_context():
        return drain()


@job
def sync_integration(integration_id):
    """Sync one connected ATS (Greenhouse: Harvest's job stages and coordinators); returns a summary."""
    from webapp.integrations.sync import run_sync

    with database.connection_context():
        return run_sync(integration_id)


@job
def sync_calendar(watch_id):
    """Sync one watched calendar (Google channel, Graph subscription): answers to invites become events."""
    from webapp.calendars.sync import sync_watch

    with database.connection_context():
        return sync_watch(watch_id)


@job
def maintain_calendars(integration_id):
    """Watch, renew, stop and reconcile the calendars of one Google or Microsoft 365 integration."""
    from webapp.calendars.sync import maintain

    with database.connection_context():
        return maintain(integration_id)


@job
def send_notifications():
    """Send the outbox's due messages (urgent tasks, digests) through SMTP and Slack; returns what was done."""
    from webapp.notifications import clear_send_flag, send_due

    clear_send_flag()
    with database.connection_context():
        return send_due()


@job
def sweep():
    """The periodic round (worker/cron.py): a drain for rows left pending (Redis was down when they
    came, a worker died, a retry is due), the hand-overs of absences that have begun or ended, the
    snoozed tasks whose time has come woken, then the ATS syncs and calendar work whose turn has
    come, and the notifications due (digests at 7:30 in each person's zone, retries)."""
    from webapp import absences, live
    from webapp.calendars.sync import enqueue_due_calendar_work
    from webapp.integrations.sync import enqueue_due_syncs
    from webapp.models import Task
    from webapp.notifications import has_due as has_due_notifications
    from webapp.notifications import request_send, schedule_digests
    from webapp.pipeline import has_due_events
    from webapp.queue import request_drain

    def drain_if_due():
        if has_due_events():
            request_drain()

    def notify():
        # Today's digests whose 7:30 has come, then a send for whatever is due (new digests, and
        # retries of messages a failure put off).
        schedule_digests()
        if has_due_notifications():
            request_send()

    steps = (
        drain_if_due,
        absences.sweep,  # out of office: tasks to the backup at the start, back at the return
        lambda: live.publish_changes(Task.wake_due()),  # snoozes ended: each woken once, however many sweeps run
        enqueue_due_syncs,  # ATS syncs whose turn has come (every few minutes)
        enqueue_due_calendar_work,  # calendars: watches to open or renew, reconciliation (each within 15 minutes)
        notify,
    )
    failed = None
    with database.connection_context():
        for step in steps:
            try:
                step()
            except Exception as exc:  # one step failing must not stop the others: it is logged, raised at the end
                log.exception("the sweep's step %s failed", getattr(step, "__name__", step))
                failed = failed or exc
    if failed is not None:
        raise failed
