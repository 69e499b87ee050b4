"""Jobs the worker runs. They take ids (or nothing), open their own connection, and are idempotent."""

from webapp.db import database
from webapp.pipeline import drain
from webapp.queue import clear_drain_flag, redis_connection


def drain_inbox():
    """Process every due row of the inbox, a batch per transaction; returns how many."""
    clear_drain_flag(redis_connection())
    with database.connection_context():
        return drain()


def noop():
    """Does nothing: the benchmark's measure of RQ's own cost per job."""
    return None


def sync_integration(integration_id):
    """Sync one connected ATS (Greenhouse: Harvest's job stages and coordinators); returns a summary."""
    from webapp.integrations.sync import run_sync

    with database.connection_context():
        return run_sync(integration_id)


def sync_calendar(watch_id):
    """Sync one watched calendar (Google channel, Graph subscription): answers to invites become events."""
    from webapp.calendars.sync import sync_watch

    with database.connection_context():
        return sync_watch(watch_id)


def maintain_calendars(integration_id):
    """Watch, renew, stop and reconcile the calendars of one Google or Microsoft 365 integration."""
    from webapp.calendars.sync import maintain

    with database.connection_context():
        return maintain(integration_id)
