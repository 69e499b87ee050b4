"""The pipeline from the event inbox to tasks: process pending rows (webapp/inbox.py stores them)
in batches, each row marked processed in the same transaction as the task changes it caused."""

import collections
import contextvars
import datetime as dt
import json
import logging
import time
import traceback

from flask import current_app
from peewee import IntegrityError, fn

from . import absences, ats_schedules, claims, erasure, live, metrics, mirror, notifications
from .db import database, is_postgres, is_sqlite, web_waiting
from .integrations import prepare, preparing_sources
from .models import (
    PRIORITIES,
    Account,
    Candidate,
    Event,
    Integration,
    Notification,
    Resolution,
    Task,
    TaskHistory,
    insert_row,
    insert_rows,
    one_of,
    rows_in,
    update_row,
    utcnow,
    values_of,
)
from .queue import request_drain
from .row_events import MIRROR_ONLY, envelopes_of
from .rulebook.current import rulebooks_for
from .rules import apply_event

log = logging.getLogger(__name__)

# Records a task names, and the fields of each it keeps, for the API's "about" and the page's links.
SUBJECT_FIELDS = {
    "application": ("id",),
    "candidate": ("id", "name", "email"),
    "job": ("id", "name"),
    "stage": ("id", "name"),
    "interview": ("id", "name"),
    "schedule": ("id", "starts_at"),
    "attendee": ("email", "name", "kind"),
    "integration": ("id", "name", "kind", "provider"),
}


# On SQLite a worker's batch holds the one write lock: it pauses between batches so that webhooks
# get in, and after a batch that was not full pauses longer, so that the next one gathers more
# events (fewer, fuller batches: measured by `make bench`).
SQLITE_GAP_SECONDS = 0.001
SQLITE_LINGER_SECONDS = 0.05


def subjects_of(data):
    """What a task is about: the identifying fields of the event's records."""
    return {
        name: {f: data[name][f] for f in fields if data[name].get(f) is not None}
        for name, fields in SUBJECT_FIELDS.items()
        if isinstance(data.get(name), dict)
    }


def _candidate_id(data):
    """The ATS id of the candidate an event's data names, as a task keeps it, or None."""
    candidate = data.get("candidate")
    return str(candidate["id"]) if isinstance(candidate, dict) and candidate.get("id") is not None else None


def _due_pending():
    """Rows to process now: pending, not waiting for a retry, and with no earlier row of their
    partition waiting for one (a candidate's events stay in order: a move that failed is retried
    before the schedule that followed it is processed). Waiting rows are few, and indexed apart
    (migration 0022)."""
    now = utcnow()
    waiting = Event.alias("waiting")
    earlier_waits = waiting.select(waiting.id).where(
        (waiting.account == Event.account)
        & (waiting.claim_key == Event.claim_key)
        & (waiting.id < Event.id)
        & waiting.next_attempt_at.is_null(False)
        & (waiting.next_attempt_at > now)
        & (waiting.status == Event.PENDING)
    )
    return (
        (Event.status == Event.PENDING)
        & (Event.next_attempt_at.is_null() | (Event.next_attempt_at <= now))
        & ~fn.EXISTS(earlier_waits)
    )


def has_due_events():
    """True when some inbox row waits to be processed now."""
    return Event.select(Event.id).where(_due_pending()).limit(1).exists()


# Accounts take turns: each round gives every account with due rows (up to this many, oldest
# first) one batch of its own, and a batch stops taking rows once it has run this long, so one
# account's flood, slow rows or failures never hold up another's events for more than a turn.
ACCOUNTS_PER_ROUND = 50
DEFAULT_BATCH_SECONDS = 1.0


def drain(batch_size=None):
    """Process due inbox rows, an account's batch per transaction, until none is left; returns how many."""
    batch_size = batch_size or current_app.config["INBOX_BATCH_SIZE"]
    total = 0
    while True:
        # Looking costs no write lock: only a batch with rows to process takes it.
        accounts = accounts_with_due_events() if has_due_events() else []
        done_in_round = 0
        for account_id in accounts:
            done = process_batch(batch_size, account_id)
            done_in_round += done
            if is_sqlite():
                _give_way(SQLITE_GAP_SECONDS if done >= batch_size else SQLITE_LINGER_SECONDS)
        total += done_in_round
        if done_in_round == 0:
            return total


def _give_way(pause):
    """Between two batches on SQLite: pause, and while a webhook waits for the write lock (or
    writes), wait for it, up to SQLITE_LINGER_SECONDS: a gap of a millisecond is shorter than a
    waiting request's poll may take to notice (webapp/db.py), and batches that follow each other
    at once would keep it out."""
    time.sleep(pause)
    deadline = time.monotonic() + SQLITE_LINGER_SECONDS
    while web_waiting() and time.monotonic() < deadline:
        time.sleep(SQLITE_GAP_SECONDS)


def accounts_with_due_events(limit=ACCOUNTS_PER_ROUND):
    """The accounts with due inbox rows, the one whose oldest due row is oldest first."""
    first = fn.MIN(Event.id)
    query = Event.select(Event.account_id, first).where(_due_pending()).group_by(Event.account_id)
    return [account_id for account_id, _ in query.order_by(first).limit(limit).tuples()]


def _due_of(account_id):
    due = _due_pending()
    return due if account_id is None else due & (Event.account_id == account_id)


def prepare_batch(batch_size, account_id=None, planned=None):
    """Vendor look-ups the next batch needs (Harvest's users, say), made before its transaction:
    for the rows its plan means to take, on PostgreSQL (claims.plan), not every worker's."""
    sources = preparing_sources()
    if not sources:
        return
    if planned is not None:
        ids = planned.row_ids
    else:  # the rows the batch will take: its account's earliest due ones (an indexed read of a batch)
        first = _first_due(account_id, batch_size, Event.id, Event.source)
        ids = [row_id for row_id, source in first if source in sources]
    if not ids:
        return
    query = Event.select().where(_due_of(account_id) & Event.source.in_(sources) & Event.id.in_(ids))
    for row in query.order_by(Event.id):
        try:
            prepare(row, Integration.of(row.account_id, row.source))
        except Exception:  # a look-up that fails leaves the adapter without the name, never stops the batch
            log.exception("vendor look-ups for event %s failed", row.id)


def _first_due(account_id, batch_size, *fields):
    """The earliest due rows (of one account, when given), oldest first: whole rows, or the fields
    given as tuples."""
    query = Event.select(*fields).where(_due_of(account_id)).order_by(Event.id).limit(batch_size)
    return query.tuples() if fields else query


def process_batch(batch_size, account_id=None):
    """Process one batch of due rows (of one account, when given) in one transaction (each row in a
    savepoint of its own only once a row has failed); returns how many were processed.

    A worker that dies mid-batch commits nothing, so the next one does the
    whole batch again: processed once in effect. No vendor call is made inside
    the transaction: what the adapters need from a vendor is looked up first.
    A batch that has run INBOX_BATCH_SECONDS leaves the rest of its rows, untouched, to the next.
    On PostgreSQL a batch takes whole partitions no other worker holds (webapp/claims.py), each
    from its earliest due row; on SQLite, with one writer, the earliest due rows.
    """
    planned = claims.plan(_due_of(account_id), batch_size) if is_postgres() else None
    if planned is not None and not planned.keys:
        return 0  # every due row is in a partition another worker holds
    prepare_batch(batch_size, account_id, planned)
    budget = current_app.config.get("INBOX_BATCH_SECONDS", DEFAULT_BATCH_SECONDS)
    deadline = time.monotonic() + budget
    failed = set()
    with database.atomic():
        if planned is not None:
            rows = claims.claim(_due_of(account_id), planned, batch_size)
        else:
            rows = list(_first_due(account_id, batch_size))
        # Each account's rulebook in force, looked up once per batch: a saved version applies
        # from the next batch on, without restarting the worker.
        rulebooks = rulebooks_for({row.account_id for row in rows})
        accounts = {a.id: a for a in Account.select().where(Account.id.in_({row.account_id for row in rows}))}
        # Who is away, and who covers, read once per batch for all of its accounts.
        away = absences.routing_for(accounts)
        with mirror.batch():
            envelopes = _envelopes_of_batch(rows, accounts)
            # A batch is first processed as one, without a savepoint per row (two statements an
            # event saved); a row that fails rolls the batch back to here, and the batch is done
            # again with each row in a savepoint of its own, so that the failing row is marked
            # failed and the others are processed. A row whose adapter failed, or that failed
            # before, is likely to fail again: its batch goes row by row at once.
            careful = any(row.attempts or row.id not in envelopes for row in rows)
            done = erased = None
            if not careful:
                try:
                    with database.atomic():
                        done, erased = _run_batch(rows, accounts, rulebooks, envelopes, deadline, away=away)
                except Exception:
                    log.info("a row of a batch of %s failed: processing it row by row", len(rows), exc_info=True)
                    mirror.forget()
                    rows = list(Event.select().where(Event.id.in_([row.id for row in rows])).order_by(Event.id))
                    envelopes = _envelopes_of_batch(rows, accounts)
            if done is None:
                done, erased = _run_batch(rows, accounts, rulebooks, envelopes, deadline, failed=failed, away=away)
    if erased:
        erasure.checkpoint()  # the erased data's old versions out of the write-ahead log too
    live.publish_changes({row.account_id for row in rows[:done]})  # committed: open lists refresh
    if any(getattr(row, "notifications_recorded", 0) for row in rows[:done]):
        notifications.request_send()  # committed: urgent tasks' messages go out now
    if done:
        _record_metrics(rows[:done], failed)
    return done


def _run_batch(rows, accounts, rulebooks, envelopes, deadline, failed=None, away=None):
    """Process a batch's rows in order until its deadline; returns how many it processed and
    whether one erased a candidate. away: each account's Absences (absences.routing_for).

    failed: None to process the rows as one (an exception stops the batch, for the caller to roll
    back), or a set to process each row in a savepoint of its own, adding the ids of those that fail.
    """
    # On SQLite the batch holds the one write lock from its BEGIN IMMEDIATE: nobody else
    # (a coordinator completing a task by hand, say) commits until it ends, so the open
    # tasks and resolutions it read stay what the database has, with its own writes.
    # On PostgreSQL each statement sees what others committed: every look-up is a query.
    cache = BatchTasks.for_batch(rows, envelopes) if is_sqlite() else None
    # What nothing reads back but through the cache is written when the batch ends, in a few
    # multi-row statements; a batch done row by row writes each row's own at once.
    writes = BatchWrites() if cache is not None and failed is None else None
    token = _batch_tasks.set((cache, writes))
    sleepers = _snoozed_accounts.set({})
    done, erased = 0, False
    stopped = set()  # partitions (account id, claim key) in which a row failed: their later rows wait
    try:
        for row in rows:
            if done and (time.monotonic() > deadline or web_waiting()):
                # The rest wait for this account's next turn; on SQLite a webhook waiting
                # for the write lock gets it after the row in hand, not after the batch.
                break
            row.account = accounts[row.account_id]
            row.absences = (away or {}).get(row.account_id)  # read by _process
            if (row.account_id, row.claim_key) in stopped:
                row.held_back = True  # left pending, untouched, until the failed row is retried
            elif failed is None:
                erased |= _process(row, rulebooks[row.account_id])
            else:
                try:
                    with database.atomic():
                        erased |= _process(row, rulebooks[row.account_id])
                except Exception as exc:  # a failing row must not stop the batch
                    mirror.forget()  # its savepoint rolled back what the mirror remembers
                    if cache is not None:
                        cache.clear()  # and what the batch knows of tasks and resolutions
                    _record_failure(row, exc)
                    failed.add(row.id)
                    stopped.add((row.account_id, row.claim_key))
            done += 1
        if writes is not None:
            writes.flush()
    finally:
        _batch_tasks.reset(token)
        _snoozed_accounts.reset(sleepers)
    return done, erased


def _record_metrics(rows, failed):
    """The committed batch's figures for /metrics (webapp/metrics.py): events processed and failed
    attempts by source, seconds from received to processed, tasks opened and completed."""
    processed, failures, latencies = collections.Counter(), collections.Counter(), []
    opened = completed = 0
    for row in rows:
        if getattr(row, "held_back", False):
            continue
        if row.id in failed:
            failures[row.source] += 1
            continue
        processed[row.source] += 1
        if row.processed_at is not None and row.received_at is not None:
            latencies.append(max((row.processed_at - row.received_at).total_seconds(), 0.0))
        opened += getattr(row, "tasks_opened", 0)
        completed += getattr(row, "tasks_completed", 0)
    metrics.record_batch(
        processed=dict(processed), latencies=latencies, opened=opened, completed=completed, failed=dict(failures)
    )


def _envelopes_of_batch(rows, accounts):
    """Each row's envelopes, made before the rows are processed, and the mirror records they name
    read in one query per table (mirror.preload). A row whose adapter fails is left out: it fails
    again, in its own savepoint, when it is processed."""
    envelopes = {}
    for row in rows:
        row.account = accounts[row.account_id]
        try:
            envelopes[row.id] = row.batch_envelopes = envelopes_of(row)
        except Exception:
            continue
    by_account = {}
    for row in rows:
        by_account.setdefault(row.account_id, []).extend(envelopes.get(row.id, ()))
    for account_id, named in sorted(by_account.items()):  # shared rows locked in one order (mirror.preload)
        mirror.preload(account_id, named)
    return envelopes


def _process(row, rulebook):
    """Process one inbox row; True when it erased a candidate. A task the rules give someone away
    (row.absences, the account's Absences its batch read) goes to whoever covers for them."""
    account = row.account
    cache, writes = _batch_tasks.get() or (None, None)
    store = TaskStore(account, row, rulebook, cache, writes)
    envelopes = getattr(row, "batch_envelopes", None)  # made by _envelopes_of_batch
    problems = []
    erased = False
    processed = False  # False: nothing in the row concerns Docket, which marks it ignored
    for envelope in envelopes_of(row) if envelopes is None else envelopes:
        if envelope["type"] in MIRROR_ONLY:
            processed |= _keep_mirror(account, envelope, store)
            continue
        if envelope["type"] in ats_schedules.REPORTS:
            events, tracked = ats_schedules.resolve(account, envelope)
        else:
            events, tracked = [envelope], True
        processed |= tracked
        for event in events:
            for implied in mirror.implied_moves(account, event):
                apply_event(rulebook, implied, store, resolve_only=True)
            data = mirror.apply(account, event)
            erasing = event["type"] == erasure.EVENT_TYPE
            if erasing:
                data = erasure.with_applications(account, data)
                if writes is not None:
                    writes.flush()  # the erasure scrubs what the batch wrote before it too
            outcome = apply_event(rulebook, dict(event, data=data), store, absences=getattr(row, "absences", None))
            problems.extend(str(problem) for problem in outcome.problems)
            if erasing:
                # After the rulebook completed the candidate's tasks; what the batch remembers is stale.
                erasure.erase(account, data, store)
                mirror.forget()
                if cache is not None:
                    cache.clear()
                erased = True
    if problems:
        row.status = Event.INCOMPLETE
    else:
        row.status = Event.PROCESSED if processed else Event.IGNORED
    row.note = "; ".join(dict.fromkeys(problems)) or None
    row.attempts += 1
    row.processed_at = utcnow()
    row.last_error = None
    row.next_attempt_at = None
    if writes is not None:
        writes.outcomes.append(row)
    else:
        # Through a statement built once (peewee's save would write its text for every row).
        update_row(
            row, Event.status, Event.note, Event.attempts, Event.processed_at, Event.last_error, Event.next_attempt_at
        )
    return erased


def _keep_mirror(account, envelope, store):
    """Apply an envelope that only keeps the mirror current (MIRROR_ONLY), handing the candidate's
    open tasks over where it says; True when that is processing the row (an owner Lever's API
    names, alone, is not)."""
    etype, data = envelope["type"], envelope.get("data") or {}
    if etype == "candidate.coordinator_reported":
        known = mirror.find(Candidate, account, data["candidate"]["id"])
        if known is None:
            return False  # new to Docket: no task names them yet
        coordinator = mirror.user_for(account, data.get("coordinator"))
        if coordinator is not None and known.coordinator_id != coordinator.id:
            store.hand_over(known.external_id, coordinator, note=f"{coordinator.display_name} {data['reason']}")
        return False
    if etype == "candidate.merged":
        survivor = data["merged_into"]
        _update_candidate(account, dict(envelope, data={"candidate": survivor}), store)
        merged_away = mirror.move_applications(account, data["candidate"]["id"], survivor["id"])
        coordinator = mirror.user_for(account, survivor.get("coordinator"))
        if merged_away is not None and coordinator is not None:
            store.hand_over(merged_away.external_id, coordinator)
        return True
    if etype == "candidate.updated":
        _update_candidate(account, envelope, store)
        return True
    mirror.apply(account, envelope)
    return True


def _update_candidate(account, envelope, store):
    """Upsert the envelope's candidate in the mirror; a new coordinator takes over their open tasks."""
    candidate = envelope["data"]["candidate"]
    known = mirror.find(Candidate, account, candidate["id"])
    coordinator = mirror.user_for(account, candidate.get("coordinator"))
    # Only a change of coordinator moves tasks: an edit that names the same coordinator leaves
    # alone the tasks a colleague has taken over in Docket.
    changed = coordinator is not None and (known is None or known.coordinator_id != coordinator.id)
    mirror.apply(account, envelope)
    if changed:
        store.hand_over(candidate["id"], coordinator)


def _record_failure(row, exc):
    config = current_app.config
    row.attempts += 1
    row.last_error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    if row.attempts >= config["INBOX_MAX_ATTEMPTS"]:
        row.status = Event.FAILED
        row.next_attempt_at = None
        log.error("event %s failed for good after %s attempts: %s", row.id, row.attempts, row.last_error)
    else:
        delay = config["INBOX_RETRY_BASE_SECONDS"] * 2 ** (row.attempts - 1)
        row.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
        log.warning("event %s failed (attempt %s), retrying in %ss: %s", row.id, row.attempts, delay, row.last_error)
    row.save(only=[Event.status, Event.attempts, Event.last_error, Event.next_attempt_at])


def retry_failed(account=None, event_ids=None):
    """Put failed rows back in the inbox with a fresh set of attempts; returns how many."""
    query = Event.update(status=Event.PENDING, attempts=0, next_attempt_at=None).where(Event.status == Event.FAILED)
    if account is not None:
        query = query.where(Event.account == account)
    if event_ids:
        query = query.where(Event.id.in_(list(event_ids)))
    count = query.execute()
    if count:
        request_drain(force=True)
    return count


def canonical_key(key):
    return json.dumps({k: str(v) for k, v in key.items()}, sort_keys=True)


def _contains(whole, part):
    return all(whole.get(path) == str(value) for path, value in part.items())


_batch_tasks = contextvars.ContextVar("batch_tasks", default=None)
# Whether each account of the batch has a snoozed task at all, asked once a batch and only when an
# event could wake one (a rule's wake_on matched): most events, and every account with nothing
# snoozed, cost no query for wake_on.
_snoozed_accounts = contextvars.ContextVar("snoozed_accounts", default=None)


class BatchTasks:
    """The open tasks and resolutions one batch read, by (account, rule, key head), kept as the
    batch writes them: only for a batch no one else can write during (SQLite's write lock), and
    cleared whenever a savepoint rolls back or tasks are changed outside the TaskStore.

    Heads the batch's events name (their records' ids) are read up front, one query for tasks
    and one for resolutions; other heads are read when first asked for. Resolutions the batch
    records are kept here before BatchWrites writes them, so every one of them is answered here."""

    def __init__(self):
        self.clear()

    def clear(self):
        self.clear_tasks()
        self.resolutions = {}  # (account id, rule id, head) -> [(key, occurred_at)]
        self.unheaded = {}  # (account id, rule id) -> [(key, occurred_at)] of resolutions without head
        self.resolution_heads = set()  # (account id, head) whose resolutions of every rule were read
        self.unheaded_read = set()  # accounts whose resolutions without a head, of every rule, were read

    def clear_tasks(self):
        """Forget the open tasks read; what is known of resolutions stays."""
        self.open_tasks = {}  # (account id, rule id, head) -> [Task], oldest first
        self.task_heads = set()  # (account id, head) whose open tasks of every rule were read

    @classmethod
    def for_batch(cls, rows, envelopes):
        cache = cls()
        by_account = {}
        for row in rows:
            ids = collections.defaultdict(set)
            for envelope in envelopes.get(row.id, ()):
                mirror.names(envelope.get("data") or {}, ids, set())
            by_account.setdefault(row.account_id, set()).update(*ids.values())
        for account_id, heads in by_account.items():
            cache.preload(account_id, heads)
        return cache

    def preload(self, account_id, heads):
        if not heads:
            return
        self.task_heads.update((account_id, head) for head in heads)
        self.resolution_heads.update((account_id, head) for head in heads)
        tasks = rows_in(
            "preload open tasks",
            lambda: (
                Task.select()
                .where((Task.account == 0) & Task.status.in_(Task.LIVE) & one_of(Task.key_head))
                .order_by(Task.id)
            ),
            account_id,
            *Task.LIVE,
            values_of(heads),
            model=Task,
        )
        for task in tasks:
            self.open_tasks.setdefault((account_id, task.rule_id, task.key_head), []).append(task)
        fields = (Resolution.rule_id, Resolution.key_head, Resolution.key, Resolution.occurred_at)
        resolutions = rows_in(
            "preload resolutions",
            lambda: Resolution.select(*fields).where((Resolution.account == 0) & one_of(Resolution.key_head)),
            account_id,
            values_of(heads),
        )
        occurred_at = Resolution.occurred_at.python_value
        for rule_id, head, key, at in resolutions:
            self.resolutions.setdefault((account_id, rule_id, head), []).append((json.loads(key), occurred_at(at)))
        # And the account's resolutions without a head, of every rule: few, and asked for by every rule.
        unheaded = rows_in(
            "preload unheaded resolutions",
            lambda: Resolution.select(Resolution.rule_id, Resolution.key, Resolution.occurred_at).where(
                (Resolution.account == 0) & Resolution.key_head.is_null()
            ),
            account_id,
        )
        for rule_id, key, at in unheaded:
            self.unheaded.setdefault((account_id, rule_id), []).append((json.loads(key), occurred_at(at)))
        self.unheaded_read.add(account_id)

    def find_open(self, account_id, rule_id, head):
        key = (account_id, rule_id, head)
        if key not in self.open_tasks:
            if (account_id, head) in self.task_heads:
                self.open_tasks[key] = []
            else:
                self.open_tasks[key] = Task.open_of_rule(account_id, rule_id, head)
        return self.open_tasks[key]

    def knows(self, account_id, rule_id, head):
        return (account_id, rule_id, head) in self.open_tasks or (account_id, head) in self.task_heads

    def opened(self, task):
        key = (task.account_id, task.rule_id, task.key_head)
        if key in self.open_tasks:
            self.open_tasks[key].append(task)
        elif (task.account_id, task.key_head) in self.task_heads:
            self.open_tasks[key] = [task]
        # else not read yet: the query that reads it finds the task

    def completed(self, task):
        tasks = self.open_tasks.get((task.account_id, task.rule_id, task.key_head))
        if tasks is not None and task in tasks:
            tasks.remove(task)

    def _read_resolutions(self, account_id, rule_id, head):
        """Make sure the rule's resolutions with this head (when one) and with none are here."""
        fields = (Resolution.key, Resolution.occurred_at)
        of_rule = (Resolution.account == account_id) & (Resolution.rule_id == rule_id)
        if (account_id, rule_id) not in self.unheaded:
            if account_id in self.unheaded_read:
                self.unheaded[(account_id, rule_id)] = []
            else:
                query = Resolution.select(*fields).where(of_rule & Resolution.key_head.is_null())
                self.unheaded[(account_id, rule_id)] = [(json.loads(r.key), r.occurred_at) for r in query]
        key = (account_id, rule_id, head)
        if head is not None and key not in self.resolutions:
            if (account_id, head) in self.resolution_heads:
                self.resolutions[key] = []
            else:
                query = Resolution.select(*fields).where(of_rule & (Resolution.key_head == head))
                self.resolutions[key] = [(json.loads(r.key), r.occurred_at) for r in query]

    def resolutions_of(self, account_id, rule_id, head):
        """(key, occurred_at) of the rule's resolutions with this head or none."""
        self._read_resolutions(account_id, rule_id, head)
        headed = self.resolutions[(account_id, rule_id, head)] if head is not None else []
        return headed + self.unheaded[(account_id, rule_id)]

    def recorded(self, account_id, rule_id, head, key, occurred_at):
        """Keep a resolution the batch records (read what the database has of its key first, so
        that the list it joins is whole)."""
        self._read_resolutions(account_id, rule_id, head)
        entry = (json.loads(key), Resolution.occurred_at.python_value(Resolution.occurred_at.db_value(occurred_at)))
        if head is None:
            self.unheaded[(account_id, rule_id)].append(entry)
        else:
            self.resolutions[(account_id, rule_id, head)].append(entry)


class BatchWrites:
    """Writes of a batch processed as one that nothing reads back from the database before the
    batch ends (BatchTasks answers for resolutions): task history, resolutions and the inbox rows'
    outcomes, kept and written by flush() in a few multi-row statements instead of one an item."""

    def __init__(self):
        self.history = []  # TaskHistory values, in the order written
        self.resolutions = []  # Resolution values
        self.outcomes = []  # processed inbox rows, with their status, note and attempts set
        self.notifications = []  # Notification values: the outbox rows of urgent tasks opened

    def flush(self):
        insert_rows(TaskHistory, self.history)
        insert_rows(Resolution, self.resolutions)
        insert_rows(Notification, self.notifications)
        now = utcnow()
        by_outcome = collections.defaultdict(list)
        for row in self.outcomes:
            by_outcome[(row.status, row.note, row.attempts)].append(row)
            row.processed_at = now  # processed when its batch is: the moment its writes are
        for (status, note, attempts), rows in by_outcome.items():
            Event.update(
                status=status, note=note, attempts=attempts, processed_at=now, last_error=None, next_attempt_at=None
            ).where(Event.id.in_([row.id for row in rows])).execute()
        self.history, self.resolutions, self.outcomes, self.notifications = [], [], [], []


class TaskStore:
    """The rules engine's task store, on the database, for one account and one inbox row (and the
    batch's BatchTasks, when it has them)."""

    def __init__(self, account, event_row, rulebook, cache=None, writes=None):
        self.account = account
        self.event_row = event_row
        self.rulebook = rulebook
        self.cache = cache
        self.writes = writes
        # What the row did, for /metrics (counted only when its savepoint commits).
        event_row.tasks_opened = event_row.tasks_completed = 0
        event_row.notifications_recorded = 0

    def hand_over(self, candidate_id, coordinator, note=None):
        """Give the candidate's open tasks to their (new) coordinator, or to whoever covers for
        them while they are away, noting each hand-over in the task's history."""
        if self.cache is not None:
            self.cache.clear_tasks()  # the tasks it read would save their old assignee
        assignee, covering_for = coordinator, None
        away = getattr(self.event_row, "absences", None)
        cover = away.cover(coordinator.as_person(), utcnow()) if away else None
        if cover is not None and cover.person is not None:
            assignee, covering_for = mirror.user_for(self.account, cover.person), coordinator
        for task in Task.open_about_candidate(self.account, candidate_id):
            if task.assignee_id == assignee.id:
                continue
            previous = task.assignee.display_name if task.assignee_id else "nobody"
            task.assignee, task.covering_for = assignee, covering_for
            task.save()
            said = note or f"{coordinator.display_name} is now the candidate's coordinator (was {previous})"
            if covering_for is not None:
                said += f" · {assignee.display_name} covering for {coordinator.display_name}"
            self._history(task, "reassigned", said)

    def _history(self, task, kind, note, at=None):
        """Note a change to the task in its history, at once or with the batch's writes."""
        values = dict(account=self.account, task=task, at=at or utcnow(), kind=kind, event=self.event_row, note=note)
        if self.writes is not None:
            self.writes.history.append(values)
        else:
            insert_row(TaskHistory, **values)

    def _head(self, rule_id, key):
        rule = self.rulebook.rule(rule_id)
        if rule is None or not rule.key or rule.key[0] not in key:
            return None
        return str(key[rule.key[0]])

    def find_open(self, rule_id, partial_key):
        head = self._head(rule_id, partial_key)
        if self.cache is not None and head is not None:
            tasks = self.cache.find_open(self.account.id, rule_id, head)
        else:
            tasks = Task.open_of_rule(self.account.id, rule_id, head)
        return [task for task in tasks if _contains(task.key_values, partial_key)]

    def latest_resolution(self, rule_id, key):
        head = self._head(rule_id, key)
        if self.cache is not None:
            times = [
                at for known, at in self.cache.resolutions_of(self.account.id, rule_id, head) if _contains(key, known)
            ]
        else:
            resolutions = Resolution.of_rule(self.account.id, rule_id, head)
            times = [r.occurred_at for r in resolutions if _contains(key, json.loads(r.key))]
        return max(times, default=None)

    def record_resolution(self, rule_id, partial_key, occurred_at, event):
        key, head = canonical_key(partial_key), self._head(rule_id, partial_key)
        values = dict(
            account=self.account, rule_id=rule_id, key=key, key_head=head, occurred_at=occurred_at, event=self.event_row
        )
        if self.cache is not None:
            self.cache.recorded(self.account.id, rule_id, head, key, occurred_at)
        if self.writes is not None:
            self.writes.resolutions.append(values)  # answered by the cache until written
        else:
            insert_row(Resolution, **values)

    def complete(self, task, event, reason):
        now = utcnow()
        task.status = Task.COMPLETED
        task.completed_at = now
        task.completed_by_event = self.event_row
        task.completed_by_user = None
        task.completed_on_behalf_of = None
        task.completion_reason = reason
        task.snoozed_until = None  # a snoozed task is completed by its resolution too
        # Only what completing changes: a whole row would write back what this batch read of the
        # task (its assignee, say) over a change made meanwhile by hand or by another worker.
        update_row(
            task,
            Task.status,
            Task.completed_at,
            Task.completed_by_event,
            Task.completed_by_user,
            Task.completed_on_behalf_of,
            Task.completion_reason,
            Task.snoozed_until,
        )
        self.event_row.tasks_completed += 1
        if self.cache is not None:
            self.cache.completed(task)
        self._history(task, "completed", reason, at=now)

    def find_snoozed(self, rule_id, partial_key):
        known = _snoozed_accounts.get()
        known = {} if known is None else known
        if self.account.id not in known:
            known[self.account.id] = Task.any_snoozed(self.account.id)
        if not known[self.account.id]:
            return []
        live = self.find_open(rule_id, partial_key)
        return [task for task in live if task.status == Task.SNOOZED and task.snoozed_until is None]

    def wake(self, task, event, reason):
        task.status, task.snoozed_until = Task.OPEN, None
        update_row(task, Task.status, Task.snoozed_until)
        self._history(task, "woke", reason)

    def retrigger(self, task, event, trigger):
        occurred_at = event.occurred_at
        if occurred_at > task.last_triggered_at:
            task.last_triggered_at = occurred_at
            update_row(task, Task.last_triggered_at)
        self._history(task, "retriggered", trigger.title)

    def open(self, trigger, event):
        person = trigger.assignee
        assignee = mirror.user_for(self.account, person)
        covering_for = mirror.user_for(self.account, trigger.covering_for)
        rule = trigger.rule
        head = self._head(rule.id, trigger.key)
        if self.cache is not None and head is not None and self.cache.knows(self.account.id, rule.id, head):
            # The batch knows every open task of the key (find_open found none) and nobody else
            # writes while it runs: the insert cannot meet another worker's task.
            task = self._create(trigger, event, assignee, covering_for)
            self.cache.opened(task)
        else:
            try:
                # A savepoint of its own: the database keeps one open task per key (migration 0011), so
                # a worker that opened this key a moment ago makes the insert fail, and that is a dedupe.
                with database.atomic():
                    task = self._create(trigger, event, assignee, covering_for)
            except IntegrityError:
                existing = Task.open_of_rule(self.account.id, rule.id, head)
                same = [task for task in existing if task.key == canonical_key(trigger.key)]
                if not same:
                    raise
                if self.cache is not None:
                    self.cache.clear_tasks()
                self.retrigger(same[0], event, trigger)
                return same[0]
            if self.cache is not None and head is not None:
                self.cache.opened(task)
        opened = trigger.title
        if covering_for is not None and assignee is not None:
            opened += f" · {assignee.display_name} covering for {covering_for.display_name}"
        self._history(task, "opened", opened)
        self.event_row.tasks_opened += 1
        if trigger.urgent:
            self._notify(task)
        return task

    def _notify(self, task):
        """Record the urgent task's messages in the outbox, with the batch's writes when it has them."""
        rows = notifications.urgent_rows(self.account.id, task.id, task.assignee_id)
        if self.writes is not None:
            self.writes.notifications.extend(rows)
        else:
            insert_rows(Notification, rows)
        self.event_row.notifications_recorded += len(rows)

    def _create(self, trigger, event, assignee, covering_for=None):
        rule = trigger.rule
        return insert_row(
            Task,
            account=self.account,
            rule_id=rule.id,
            category=trigger.category,
            key=canonical_key(trigger.key),
            key_head=self._head(rule.id, trigger.key),
            title=trigger.title,
            recommended_action=trigger.action,
            description=rule.description,
            assignee=assignee,
            priority=trigger.priority,
            priority_rank=PRIORITIES.index(trigger.priority),
            subjects=subjects_of(event.data),
            candidate_external_id=_candidate_id(event.data),
            last_triggered_at=event.occurred_at,
            waiting_since=event.occurred_at,
            due_at=trigger.due_at,
            raised_by_event=self.event_row,
            covering_for=covering_for,
        )
