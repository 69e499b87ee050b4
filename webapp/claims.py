"""Partitions of the inbox, so that several workers on PostgreSQL never work on one at once.

Each inbox row has a claim key within its account, set when it is stored: the candidate its event
names (the events about one candidate, hence about one application, stay in order, and a
candidate's hand-overs are theirs), else its job, else none (the account alone). A batch on
PostgreSQL claims whole partitions (account, key): it takes a transaction-scoped advisory lock per
partition without waiting (`pg_try_advisory_xact_lock`), keeps those it won, then takes the
earliest due rows of those. A partition another worker holds is left for later. SQLite has one
writer: no claims.
"""

import functools
import operator
import zlib

from .db import database
from .models import Event

# Rows read (ids and keys, no lock) per row a batch takes, to find partitions no one holds.
CANDIDATES_PER_ROW = 8


def key_for(envelopes):
    """candidate:<id> from the first envelope naming a candidate, else job:<id> from the first
    naming a job, else "" (the account's partition). Envelopes that are not one are passed over."""
    for name in ("candidate", "job"):
        for envelope in envelopes:
            data = envelope.get("data") if isinstance(envelope, dict) else None
            record = data.get(name) if isinstance(data, dict) else None
            if isinstance(record, dict) and record.get("id") not in (None, ""):
                return f"{name}:{record['id']}"
    return ""


def lock_of(account_id, key):
    """The two 32-bit integers of a key's advisory lock: the account, and a hash of the key (two
    keys of one account that share a hash are one partition: correct, only less parallel)."""
    digest = zlib.crc32(key.encode())
    return account_id, digest - (1 << 32) if digest >= 1 << 31 else digest


class Plan:
    """The partitions a batch means to claim, as (account id, key), and the rows it expects to take."""

    def __init__(self, keys, row_ids):
        self.keys = keys
        self.row_ids = row_ids


def plan(due, batch_size):
    """Before the batch's transaction: the partitions of the earliest due rows that no other worker
    holds now, as many as make a batch, with the rows the batch will take (its vendor look-ups
    are made for those alone, not for every worker's)."""
    held = _held_elsewhere()
    query = Event.select(Event.id, Event.account_id, Event.claim_key).where(due).order_by(Event.id)
    rows_of = {}  # (account id, key) -> row ids, in order of the key's first row
    for row_id, account_id, key in query.limit(batch_size * CANDIDATES_PER_ROW).tuples():
        if lock_of(account_id, key) not in held:
            rows_of.setdefault((account_id, key), []).append(row_id)
    keys, ids = [], []
    for partition, row_ids in rows_of.items():
        if len(ids) >= batch_size:
            break
        keys.append(partition)
        ids.extend(row_ids)
    return Plan(keys, sorted(ids)[:batch_size])


def claim(due, planned, batch_size):
    """In the batch's transaction: lock the planned partitions no one took meanwhile (in sorted
    order, never waiting), and take the earliest due rows of those won, locked, oldest first."""
    if not planned.keys:
        return []
    keys = sorted(planned.keys)
    locks = [lock_of(account_id, key) for account_id, key in keys]
    cursor = database.execute_sql(
        "SELECT pg_try_advisory_xact_lock(a, b) FROM unnest(%s::int[], %s::int[]) WITH ORDINALITY AS k(a, b, n)"
        " ORDER BY n",
        ([a for a, _ in locks], [b for _, b in locks]),
    )
    won = {}  # account id -> its keys won
    for (account_id, key), (locked,) in zip(keys, cursor.fetchall(), strict=True):
        if locked:
            won.setdefault(account_id, []).append(key)
    if not won:
        return []
    of_won = functools.reduce(
        operator.or_, ((Event.account == account_id) & Event.claim_key.in_(keys) for account_id, keys in won.items())
    )
    # Rows after the planned ones wait for the next batch: their vendor look-ups are not made yet.
    query = (
        Event.select()
        .where(due & of_won & (Event.id <= planned.row_ids[-1]))
        .order_by(Event.id)
        .limit(batch_size)
        .for_update()
    )
    return list(query)


def _held_elsewhere():
    """The partition locks other sessions of this database hold now."""
    cursor = database.execute_sql(
        "SELECT classid::int, objid::int FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
        " AND granted AND pid <> pg_backend_pid()"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    return set(cursor.fetchall())
