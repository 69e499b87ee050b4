"""Erasing a candidate the ATS deleted, anonymised or merged away: what Docket holds of them goes,
from the mirror, the tasks and the stored events, and (on SQLite) from the database files too.

The worker calls `erase` for each `candidate.erased` event it processes, after the rulebook has
completed the candidate's open tasks (their applications are listed in the event by
`with_applications`, so the completion is the rulebook's, with its reason in each task's history;
a task the rulebook left open, raised by an event dated after the erasure, is completed here with
the same reason). Then, in the same transaction:

- The candidate's row keeps its ids (later events about them stay consistent) and loses its name
  and e-mail; it is marked erased, so a later event does not bring them back (see mirror.py).
- The strings known of the candidate before erasure (the mirror's name and e-mail, the event's,
  and the name, e-mail addresses and phone numbers of every stored record of theirs) are replaced
  by `PLACEHOLDER` in every text and JSON column of every table of the account: task titles,
  recommended actions, reasons, subjects and keys, history notes, attendees, event payloads,
  notes and whatever JSON columns the models gain (the scrub reads the models' fields).
- In stored JSON, a record that is the candidate (under `candidate`, `person`,
  `deletedCandidate` or `contact` with their id, or a Lever opportunity whose `contact` is
  them) loses every string but its ids, times and kinds: titles, companies, addresses, links.

Full names, e-mail addresses and phone numbers are replaced wherever they appear; a first or a
last name alone is replaced only inside the candidate's own records, since "Lee" or "Ann" alone
would take other people's words with it.

A merge (`merged_into`, the surviving record) is the same person under two records, so the
survivor keeps what it shares with the merged-away one: the merged-away candidate's applications
and open tasks move to the survivor (the rulebook leaves them open; their subjects name the
survivor), the survivor inherits the name and e-mail when the mirror knew none for it, and only
the merged-away record's strings that are not the survivor's (another e-mail, a phone number, a
name spelt otherwise) are replaced, by the survivor's equivalent where there is one.

After the batch's transaction, `checkpoint` copies SQLite's write-ahead log into the database
and truncates it: with `secure_delete` on (db.py), the old versions of the rows are then in
neither file. PostgreSQL keeps old row versions as dead tuples until VACUUM reuses their space.
"""

import json
import logging
import operator
import re
import time
from functools import reduce

from peewee import OP, SQL, CharField, Expression, NodeList, TextField, Value

from .db import database, is_sqlite
from .models import MODELS, Application, Candidate, Task, utcnow
from .rules import EVENT_TYPES

log = logging.getLogger(__name__)

EVENT_TYPE = "candidate.erased"
PLACEHOLDER = "Erased candidate"

# Keys under which a stored record is a candidate (by its id) in the vendors' payloads and Docket's.
CANDIDATE_KEYS = frozenset({"candidate", "person", "deletedCandidate", "contact", "candidates"})
# Keys whose values name a person: gathered from the candidate's records and replaced everywhere.
NAME_KEYS = frozenset({"name", "full_name", "fullName"})
EMAIL_KEYS = frozenset({"email", "emails", "email_addresses", "emailAddresses", "primaryEmailAddress"})
PHONE_KEYS = frozenset({"phone", "phones", "phone_numbers", "phoneNumbers", "primaryPhoneNumber"})
# Values of a candidate's record that are not personal and are kept: ids, times, kinds.
KEPT_KEYS = frozenset({"id", "type", "kind", "status", "url", "created_at", "updated_at", "createdAt", "updatedAt"})
SHORTEST_NEEDLE = 3
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\d([T ][\d:.]+)?(Z|[+-]\d\d:?\d\d)?$")
CHECKPOINT_ATTEMPTS = 100


def with_applications(account, data):
    """The event's data with `applications`: the ids it names, the candidate's in the mirror, and
    those of the candidate's open tasks (so that the rulebook completes every one)."""
    candidate_id = str(data["candidate"]["id"])
    ids = [str(i) for i in data.get("applications") or []]
    candidate = Candidate.by_external_id(account.id, candidate_id)
    if candidate is not None:
        ids += [a.external_id for a in Application.select().where(Application.candidate == candidate)]
    for task in Task.open_about_candidate(account, candidate_id):
        application = (task.subjects or {}).get("application") or {}
        if application.get("id") is not None:
            ids.append(str(application["id"]))
    return dict(data, applications=list(dict.fromkeys(ids)))


def erase(account, data, store=None):
    """Erase the candidate a processed candidate.erased event names; returns how many rows changed.

    store: the worker's task store, to complete what the rulebook left open of the candidate's
    tasks (one raised by an event dated after the erasure: the candidate is gone all the same).
    """
    candidate_id = str(data["candidate"]["id"])
    candidate = Candidate.by_external_id(account.id, candidate_id)
    if candidate is None:
        # Unknown to the mirror: recorded as erased all the same, so that nothing brings them in later.
        candidate = Candidate.create(account=account, external_id=candidate_id)
    survivor = _survivor(account, data.get("merged_into"), candidate)
    known = _Known(candidate_id)
    for value in (candidate.name, candidate.email, data["candidate"].get("name"), data["candidate"].get("email")):
        known.add(value)
    _gather_from_events(account, known)
    scrub = _Scrub(known, survivor)
    if survivor is not None:
        _follow_survivor(account, candidate, survivor)
    elif store is not None:
        _complete_left_open(account, data, store)
    changed = scrub.tables(account)
    candidate.name = PLACEHOLDER
    candidate.email = None
    candidate.erased_at = utcnow()
    candidate.save()
    log.info("erased candidate %s of account %s (%s rows scrubbed)", candidate_id, account.id, changed)
    return changed


def _complete_left_open(account, data, store):
    """Complete the candidate's tasks still open, with the reason the default rulebook gives."""
    reason = f"{EVENT_TYPES[EVENT_TYPE].reason} ({data.get('reason') or 'in the ATS'})"
    applications = set(data.get("applications") or [])
    for task in Task.select().where(Task.account == account, Task.status.in_(Task.LIVE)):
        about = task.subjects or {}
        if str((about.get("candidate") or {}).get("id")) == str(data["candidate"]["id"]) or (
            str((about.get("application") or {}).get("id")) in applications
        ):
            store.complete(task, None, reason)


def _survivor(account, record, merged_away):
    """The surviving candidate of a merge (created if the mirror lacks it), or None."""
    if not isinstance(record, dict) or record.get("id") is None or str(record["id"]) == merged_away.external_id:
        return None
    survivor = Candidate.by_external_id(account.id, record["id"])
    if survivor is None:
        survivor = Candidate.create(account=account, external_id=str(record["id"]))
    # The same person: what the mirror does not know of the survivor, the merged-away record says.
    survivor.name = survivor.name or record.get("name") or merged_away.name or ""
    survivor.email = survivor.email or record.get("email") or merged_away.email
    survivor.coordinator = survivor.coordinator or merged_away.coordinator
    survivor.save()
    return survivor


def _follow_survivor(account, merged_away, survivor):
    """The merged-away candidate's applications and open tasks become the survivor's."""
    Application.update(candidate=survivor).where(Application.candidate == merged_away).execute()
    record = {"id": survivor.external_id, "name": survivor.name or None, "email": survivor.email}
    for task in Task.open_about_candidate(account, merged_away.external_id):
        task.subjects = dict(task.subjects, candidate={k: v for k, v in record.items() if v})
        task.candidate_external_id = survivor.external_id
        task.save(only=[Task.subjects, Task.candidate_external_id])


class _Known:
    """The personal strings known of the candidate, by kind."""

    def __init__(self, candidate_id):
        self.candidate_id = candidate_id
        self.strings = set()

    def add(self, value):
        if isinstance(value, str) and len(value.strip()) >= SHORTEST_NEEDLE and value.strip() != PLACEHOLDER:
            self.strings.add(value.strip())

    def is_candidate(self, record, key):
        """Whether a stored JSON record is the candidate's own."""
        if key in CANDIDATE_KEYS and str(record.get("id")) == self.candidate_id:
            return True
        return str(record.get("contact")) == self.candidate_id  # a Lever opportunity: its contact is the person

    def gather(self, record):
        """Add the names, e-mails and phone numbers of one of the candidate's records."""
        first = record.get("first_name") or record.get("firstName")
        last = record.get("last_name") or record.get("lastName")
        if isinstance(first, str) and isinstance(last, str):
            self.add(f"{first} {last}")
        for key, value in record.items():
            if key in NAME_KEYS:
                self.add(value)
            elif key in EMAIL_KEYS or key in PHONE_KEYS:
                for leaf in _leaves(value):
                    if not _kept_value(leaf):
                        self.add(leaf)


def _leaves(value):
    if isinstance(value, dict):
        return [leaf for k, v in value.items() if k not in KEPT_KEYS for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value] if isinstance(value, str) else []


def _kept_value(value):
    return bool(UUID.match(value) or ISO_TIME.match(value) or value.isdigit())


def _kept_key(key):
    return key in KEPT_KEYS or key.endswith(("_id", "_ids", "Id", "Ids", "_at", "At"))


def _json_forms(text):
    """A string as it is stored: itself, and inside JSON text (non-ASCII escaped)."""
    return {text, json.dumps(text)[1:-1]}


def _contains(field, text):
    """field LIKE %text% (case-insensitive), the pattern unconverted: a JSON field would quote it."""
    escaped = text.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")
    pattern = NodeList((Value(f"%{escaped}%", converter=False), SQL("ESCAPE"), Value("\\", converter=False)))
    return Expression(field, OP.ILIKE, pattern)


def _text_fields(model):
    return [
        f
        for f in model._meta.sorted_fields
        if isinstance(f, CharField | TextField) and f.name not in ("external_id",) and not f.primary_key
    ]


def _is_json_field(field):
    return type(field).__name__ == "JSONField"


def _gather_from_events(account, known):
    """Add to what is known of the candidate what the stored JSON of the account says of them."""
    for model in _account_models():
        fields = [f for f in _text_fields(model) if _is_json_field(f)]
        if not fields:
            continue
        query = model.select().where(
            model.account == account, reduce(operator.or_, [_contains(f, known.candidate_id) for f in fields])
        )
        for row in query:
            for field in fields:
                _walk_records(getattr(row, field.name), None, known)


def _walk_records(value, key, known):
    if isinstance(value, dict):
        if known.is_candidate(value, key):
            known.gather(value)
        for k, v in value.items():
            _walk_records(v, k, known)
    elif isinstance(value, list):
        for item in value:
            _walk_records(item, key, known)


def _account_models():
    return [m for m in MODELS if "account" in m._meta.fields]


class _Scrub:
    """Replaces the candidate's strings in text and JSON, and empties their own JSON records."""

    def __init__(self, known, survivor=None):
        self.known = known
        self.survivor = survivor
        replacements = {}
        if survivor is not None:
            # A merge: what the survivor shares stays; the rest takes the survivor's word where it has one.
            shared = {s.lower() for s in (survivor.name, survivor.email) if s}
            for string in known.strings:
                if string.lower() in shared:
                    continue
                equivalent = survivor.email if "@" in string else (survivor.name if " " in string else None)
                replacements[string.lower()] = equivalent or PLACEHOLDER
        else:
            replacements = {s.lower(): PLACEHOLDER for s in known.strings}
        self.replacements = replacements
        needles = sorted(replacements, key=len, reverse=True)
        self.pattern = re.compile("|".join(re.escape(n) for n in needles), re.I) if needles else None

    def text(self, value):
        if not isinstance(value, str) or self.pattern is None:
            return value
        return self.pattern.sub(lambda m: self.replacements[m.group(0).lower()], value)

    def json(self, value, key=None):
        if isinstance(value, dict):
            own = self.survivor is None and self.known.is_candidate(value, key)
            return {k: self._own(v, k) if own and not _kept_key(k) else self.json(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json(item, key) for item in value]
        return self.text(value)

    def _own(self, value, key):
        """A value of the candidate's own record: every string but ids, times and kinds goes."""
        if isinstance(value, dict):
            return {k: v if _kept_key(k) else self._own(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._own(item, key) for item in value]
        if isinstance(value, str) and value and not _kept_value(value):
            return PLACEHOLDER
        return self.text(value)

    def value(self, field, value):
        """A column's value scrubbed; JSON kept as text (a task's key) is scrubbed as JSON."""
        if value is None:
            return value
        if _is_json_field(field):
            return self.json(value)
        if isinstance(value, str) and value[:1] in "{[":
            try:
                parsed = json.loads(value)
            except ValueError:
                return self.text(value)
            return json.dumps(self.json(parsed), sort_keys=True)
        return self.text(value)

    def searches(self, field):
        forms = set()
        for needle in self.replacements:
            forms |= _json_forms(needle)
        if _is_json_field(field):
            forms.add(self.known.candidate_id)  # the candidate's own records, found by id
        return [_contains(field, form) for form in forms]

    def tables(self, account):
        """Scrub every text and JSON column of the account's rows; returns how many rows changed."""
        changed = 0
        for model in _account_models():
            fields = _text_fields(model)
            conditions = [c for f in fields for c in self.searches(f)]
            if not conditions:
                continue
            query = model.select().where(model.account == account, reduce(operator.or_, conditions))
            for row in query:
                updates = {}
                for field in fields:
                    before = getattr(row, field.name)
                    after = self.value(field, before)
                    if after != before:
                        updates[field] = after
                if updates:
                    model.update(updates).where(model._meta.primary_key == row._pk).execute()
                    changed += 1
        return changed


def checkpoint():
    """SQLite: copy the write-ahead log into the database and truncate it, outside any transaction,
    so that the erased rows' old versions are in neither file. True when it completed."""
    if not is_sqlite():
        return True
    for _ in range(CHECKPOINT_ATTEMPTS):
        busy, _log, _done = database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if not busy:
            return True
        time.sleep(0.01)  # a reader holds an older snapshot: it finishes soon
    log.warning("the write-ahead log could not be truncated after an erasure; the next checkpoint will")
    return False
