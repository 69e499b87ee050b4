"""The event inbox's front door: store an event (once per source and id) and wake a worker.

On SQLite, one writer at a time holds the database's write lock, and a worker's batch holds it
for as long as the batch runs. Requests that arrive meanwhile must not each wait for the lock and
then each take it in turn (a worker's pause between batches lets only a few in, so under load
webhooks queue for seconds): the requests of one web process that wait together are stored
together, in one short transaction, by whichever of them came first (group commit, `_Group`).
Each event still has a savepoint of its own, so a redelivery or a bad row fails alone.
PostgreSQL locks rows, not the database: each request stores its event in a transaction of its own.
So does a caller already in a transaction (a calendar sync storing an event with the change it
saw): its event commits or rolls back with the rest of its work, on its own connection.
"""

import os
import threading
import time

from peewee import IntegrityError, fn

from . import claims
from .db import database, is_sqlite, retry_if_dropped, web_writing
from .models import Event, insert_row, to_utc
from .queue import request_drain


def accept(account, source, external_id, payload, type="", occurred_at=None, claim_key=None):
    """Store an event in the inbox (once per source and id) and wake a worker.

    claim_key: the row's partition (webapp/claims.py); by default read from the payload as a
    Docket envelope (a vendor's webhook passes what its adapter reads in the payload).
    Returns (event row, created); a redelivery returns the first row and False.
    """
    values = dict(
        account=account,
        source=source,
        external_id=str(external_id),
        type=type,
        payload=payload,
        occurred_at=to_utc(occurred_at) if occurred_at else None,
        claim_key=claims.key_for([payload], account) if claim_key is None else claim_key,
    )
    if is_sqlite() and not database.in_transaction():
        row = _group().store(values)
    else:
        try:
            row = retry_if_dropped(lambda: _store_one(values))
        except IntegrityError:
            row = None
    if row is None:  # already in the inbox: the first row answers
        row = Event.get(Event.account == account, Event.source == source, Event.external_id == str(external_id))
        return row, False
    request_drain()
    return row, True


def wait_processed(account, seconds, step=0.05):
    """Wait up to `seconds` for the account's events received so far to be processed (by a
    worker: the inbox is never processed in a web request); True when none is left pending."""
    last = Event.select(fn.MAX(Event.id)).where(Event.account == account).scalar() or 0
    pending = Event.select(Event.id).where(Event.account == account, Event.status == Event.PENDING, Event.id <= last)
    deadline = time.monotonic() + seconds
    while pending.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def _store_one(values):
    with database.atomic():
        return insert_row(Event, **values)


class _Waiting:
    """One request's event, waiting for the transaction that stores it: its row, None for a
    redelivery, or the error that stopped it."""

    __slots__ = ("values", "done", "row", "error")

    def __init__(self, values):
        self.values = values
        self.done = threading.Event()
        self.row = None
        self.error = None


class _Group:
    """Group commit for one process's inbox writes on SQLite.

    A request queues its event; if no other request of this process is storing events, it
    stores every event queued (its own among them) in one transaction, and goes on while more
    arrive; otherwise it waits for the request that is. One transaction per process waits for
    the write lock, however many requests do, and takes all of them in when it gets it.
    """

    def __init__(self):
        self._mutex = threading.Lock()
        self._queued = []
        self._storing = False
        self.transactions = 0  # how many transactions stored events (tests read it)

    def store(self, values):
        """The new row, or None when the inbox already holds this event; raises what stopped it."""
        mine = _Waiting(values)
        with self._mutex:
            self._queued.append(mine)
            leading = not self._storing
            self._storing = True
        if leading:
            self._lead()
        else:
            mine.done.wait()
        if mine.error is not None:
            raise mine.error
        return mine.row

    def _lead(self):
        while True:
            with self._mutex:
                group, self._queued = self._queued, []
                if not group:
                    self._storing = False
                    return
            try:
                self._commit(group)
            except Exception as exc:  # the transaction itself failed: none of the group is stored
                for waiting in group:
                    waiting.row, waiting.error = None, exc
            finally:
                for waiting in group:
                    waiting.done.set()

    def _commit(self, group):
        with web_writing(), database.atomic():
            for waiting in group:
                try:
                    with database.atomic():  # a savepoint: one event's failure is its own
                        waiting.row = insert_row(Event, **waiting.values)
                except IntegrityError:
                    waiting.row = None  # a redelivery (or twice in this group): the first row stays
                except Exception as exc:
                    waiting.error = exc
        self.transactions += 1


_groups = {}
_groups_mutex = threading.Lock()


def _group():
    """This process's group (a forked process makes its own: a lock must not cross a fork)."""
    pid = os.getpid()
    group = _groups.get(pid)
    if group is None:
        with _groups_mutex:
            group = _groups.setdefault(pid, _Group())
    return group
