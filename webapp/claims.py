"""Partitions of the inbox, so that several workers on PostgreSQL never work on one at once.

Each inbox row has a claim key within its account, set when it is stored: the candidate its event
names (the events about one candidate, hence about one application, stay in order, and a
candidate's hand-overs are theirs), or the one the mirror knows for the application or schedule
it names, else its job, else none (the account alone). A batch on
PostgreSQL claims whole partitions (account, key): it takes a transaction-scoped advisory lock per
partition without waiting (`pg_try_advisory_xact_lock`), keeps those it won, then takes the
earliest due rows of those. A partition another worker holds is left for later. SQLite has one
writer: no claims.
"""

import functools
import operator
import zlib

from .db import database
from .models import Application, Candidate, Event, Schedule

# Rows read (ids and keys, no lock) per row a batch takes, to find partitions no one holds.
CANDIDATES_PER_ROW = 8


def key_for(envelopes, account=None):
    """candidate:<id> from the first envelope naming a candidate, else (given the account) from the
    candidate the mirror knows for an application or schedule one names, else job:<id> from the
    first naming a job, else "" (the account's partition). Envelopes that are not one are passed over.

    An event naming an application whose candidate the mirror does not know yet is keyed by its job:
    it may run beside a later event about the same candidate (each is still processed once)."""
    named = [_ids_named(envelope) for envelope in envelopes]
    for ids in named:
        if ids.get("candidate"):
            return f"candidate:{ids['candidate']}"
    if account is not None:
        for ids in named:
            candidate = _known_candidate(getattr(account, "id", account), ids)
            if candidate:
                return f"candidate:{candidate}"
    for ids in named:
        if ids.get("job"):
            return f"job:{ids['job']}"
    return ""


def _ids_named(envelope):
    """The ids an envelope's data names, by record: {"candidate": "c-1", "job": "j-1", ...}."""
    data = envelope.get("data") if isinstance(envelope, dict) else None
    if not isinstance(data, dict):
        return {}
    ids = {}
    for name in ("candidate", "job", "application", "schedule"):
        record = data.get(name)
        if isinstance(record, dict) and record.get("id") not in (None, ""):
            ids[name] = str(record["id"])
    return ids


def _known_candidate(account_id, ids):
    """The ATS id of the candidate of the application, else of the schedule, that `ids` names, as
    the mirror knows it; None when it knows neither."""
    query = Candidate.select(Candidate.external_id).join(Application, on=Application.candidate == Candidate.id)
    if ids.get("application"):
        found = query.where(Application.account == account_id, Application.external_id == ids["application"])
        candidate = found.scalar()
        if candidate:
            return candidate
    if ids.get("schedule"):
        found = query.join(Schedule, on=Schedule.application == Application.id).where(
            Schedule.account == account_id, Schedule.external_id == ids["schedule"]
        )
        return found.scalar()
    return None


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
