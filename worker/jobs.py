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
