"""Docket's mirror of the ATS and of its own schedules, kept current from events, and the
enrichment that gives rules what the vendor does not know (coordinators, scheduling set-up).

The worker processes events in batches, one transaction each; within a batch
the mirror keeps an identity map of the rows it read or wrote (`batch()`), so
the same job, stage or coordinator is not fetched again for every event.
"""

import collections
import contextlib
import contextvars
import hashlib

from .db import database, is_postgres
from .models import (
    Application,
    ApplicationMove,
    Attendee,
    Candidate,
    Integration,
    Interview,
    Job,
    Schedule,
    ScheduledInterview,
    Stage,
    User,
    account_creator,
    insert_row,
    one_of,
    rows_in,
    to_utc,
    update_row,
    utcnow,
    values_of,
)


class _IdentityMap:
    """Rows read or written in this batch, by (model, account, external id) and by (model, id)."""

    def __init__(self):
        self.by_external_id = {}
        self.by_id = {}
        self.users_by_email = {}
        self.no_user = set()  # (account id, e-mail) the batch's preload found no user for
        self.creators = {}
        self.integrations = {}

    def remember(self, row):
        self.by_id[(type(row), row.id)] = row
        if "external_id" in type(row)._meta.fields:
            self.by_external_id[(type(row), row.account_id, row.external_id)] = row
        return row


_identity_map = contextvars.ContextVar("mirror_identity_map", default=None)


@contextlib.contextmanager
def batch():
    """Share one identity map across the events of a batch (inside its transaction)."""
    token = _identity_map.set(_IdentityMap())
    try:
        yield
    finally:
        _identity_map.reset(token)


# The records an event's data names, by their key there, and the people its records name.
_NAMED = {
    "job": Job,
    "stage": Stage,
    "previous_stage": Stage,
    "interview": Interview,
    "candidate": Candidate,
    "merged_into": Candidate,
    "application": Application,
    "schedule": Schedule,
}
_PEOPLE = ("coordinator", "organizer")
# The rows a mirror row links to that enrich() follows, fetched with the rows of the batch.
_LINKS = {
    Application: ("candidate", "job", "stage"),
    Stage: ("job",),
    Interview: ("stage",),
    Schedule: ("application", "stage", "organizer"),
    Job: ("coordinator",),
    Candidate: ("coordinator",),
}


def names(data, ids, emails, depth=0):
    """Gather the external ids (by model) and the people's e-mails an event's data names."""
    if depth > 3 or not isinstance(data, dict):
        return
    for key, value in data.items():
        if not isinstance(value, dict):
            continue
        model = _NAMED.get(key)
        if model is not None and value.get("id") is not None:
            ids[model].add(str(value["id"]))
        if key in _PEOPLE and isinstance(value.get("email"), str) and value["email"].strip():
            emails.add(value["email"].strip().lower())
        names(value, ids, emails, depth + 1)


def preload(account_id, envelopes):
    """Read into the batch's identity map, with one query per table, every mirror record and
    person the envelopes name (and the rows those link to), remembering the ones the mirror lacks,
    so the events of the batch find them without a query each. Only what an event names is read;
    a record met otherwise is still found by _find."""
    known = _identity_map.get()
    if known is None:
        return
    ids = collections.defaultdict(set)
    emails = set()
    for envelope in envelopes:
        names(envelope.get("data") or {}, ids, emails)
    linked = collections.defaultdict(set)
    # Each statement's text is built once: one parameter holds all the ids (models.one_of).
    for model, wanted in ids.items():
        wanted = {w for w in wanted if (model, account_id, w) not in known.by_external_id}
        if not wanted:
            continue
        query = rows_in(
            ("preload", model),
            lambda model=model: model.select().where((model.account == 0) & one_of(model.external_id)),
            account_id,
            values_of(wanted),
            model=model,
        )
        found = {row.external_id: known.remember(row) for row in query}
        for external_id in wanted:
            row = found.get(external_id)
            if row is None:
                known.by_external_id[(model, account_id, external_id)] = None
                continue
            for name in _LINKS.get(model, ()):
                related_id = row.__data__.get(name)
                if related_id is not None:
                    linked[model._meta.fields[name].rel_model].add(related_id)
    wanted = {e for e in emails if (account_id, e) not in known.users_by_email}
    if wanted:
        query = rows_in(
            "preload users",
            lambda: User.select().where((User.account == 0) & one_of(User.email)),
            account_id,
            values_of(wanted),
            model=User,
        )
        found = {u.email: u for u in query}
        for email in wanted:
            if email in found:
                known.users_by_email[(account_id, email)] = known.remember(found[email])
            else:
                known.no_user.add((account_id, email))
    if is_postgres():
        _claim_shared(known, account_id, ids, wanted)
    for model, wanted in linked.items():
        wanted = {w for w in wanted if (model, w) not in known.by_id}
        if wanted:
            query = rows_in(
                ("preload linked", model),
                lambda model=model: model.select().where(one_of(model.id)),
                values_of(wanted),
                model=model,
            )
            for row in query:
                known.remember(row)


# Mirror rows that events of many partitions name (webapp/claims.py): two batches on PostgreSQL
# that both create some of them would otherwise wait for each other's inserts in opposite orders.
_SHARED = (Job, Stage, Interview)


def _claim_shared(known, account_id, ids, emails):
    """Before a batch on PostgreSQL creates the shared rows it names that the mirror lacks (jobs,
    stages, interviews, users), take a lock for each, waiting, in one order for every batch; then
    read them again, since another batch may have created them meanwhile. Rows that exist are not
    locked: a batch only writes them when they change."""
    missing = {}
    for model in _SHARED:
        for external_id in ids.get(model, ()):
            if known.by_external_id.get((model, account_id, external_id), False) is None:
                missing[_shared_lock(account_id, model, external_id)] = (model, external_id)
    for email in emails:
        if (account_id, email) in known.no_user:
            missing[_shared_lock(account_id, User, email)] = (User, email)
    if not missing:
        return
    locks = sorted(missing)
    database.execute_sql(
        "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(k, n) ORDER BY n", (locks,)
    )
    for model, external_id in missing.values():
        if model is User:
            user = User.get_or_none((User.account == account_id) & (User.email == external_id))
            if user is not None:
                known.no_user.discard((account_id, external_id))
                known.users_by_email[(account_id, external_id)] = known.remember(user)
        else:
            row = model.by_external_id(account_id, external_id)
            if row is not None:
                known.remember(row)


def _shared_lock(account_id, model, name):
    """A shared row's advisory lock: one signed 64-bit integer (the partitions' locks take two
    32-bit ones, a space of their own)."""
    digest = hashlib.blake2b(f"{account_id}:{model._meta.table_name}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def forget():
    """Drop what the batch remembers: a savepoint that rolled back may have undone it."""
    if _identity_map.get() is not None:
        _identity_map.set(_IdentityMap())


def _map():
    return _identity_map.get() or _IdentityMap()


def _find(model, account, external_id):
    """The account's mirror row with this external id, or None (remembered for the batch)."""
    known = _map()
    account_id = getattr(account, "id", account)
    key = (model, account_id, str(external_id))
    if key not in known.by_external_id:
        # None is remembered too: only the mirror creates these rows during a batch, and
        # remember() replaces it when it does.
        known.by_external_id[key] = model.by_external_id(account_id, external_id)
    return known.by_external_id[key]


def _related(row, name):
    """The row a foreign key of `row` points to, without a query when the batch has it."""
    field = type(row)._meta.fields[name]
    related_id = row.__data__.get(name)
    if related_id is None:
        return None
    known = _map()
    key = (field.rel_model, related_id)
    if key not in known.by_id:
        known.remember(field.rel_model.get_by_id(related_id))
    return known.by_id[key]


def integration(account_id, provider):
    """Integration.of, looked up once per batch (a batch's rows mostly share one or two)."""
    known = _identity_map.get()
    if known is None:
        return Integration.of(account_id, provider)
    key = (account_id, provider)
    if key not in known.integrations:
        known.integrations[key] = Integration.of(account_id, provider)
    return known.integrations[key]


def _creator(account):
    known = _map()
    if account.id not in known.creators:
        known.creators[account.id] = account_creator(account)
    return known.creators[account.id]


def _person(user):
    return user.as_person() if user is not None else None


def user_for(account, person):
    """The user a person dict names, created if the ATS names someone new; None without e-mail."""
    if isinstance(person, dict) and person.get("email"):
        known = _map()
        email = person["email"].strip().lower()
        user = known.users_by_email.get((account.id, email))
        if user is None or (person.get("name") and not user.name):
            if user is None and (account.id, email) in known.no_user:
                user = User.add_for_email(account, email, person.get("name"))
            else:
                user = User.for_email(account, email, person.get("name"))
            known.no_user.discard((account.id, email))
            known.users_by_email[(account.id, email)] = known.remember(user)
        return user
    return None


def _upsert(model, account, external_id, **fields):
    """Insert or update one mirror row; fields whose value is None are left as they are."""
    fields = {k: v for k, v in fields.items() if v is not None}
    row = _find(model, account, external_id)
    if row is None:
        # ON CONFLICT DO NOTHING: a worker that created the row a moment ago (PostgreSQL, several
        # workers) leaves it to be read back and updated, instead of an IntegrityError.
        inserted = insert_row(
            model, unique=("account", "external_id"), account=account, external_id=str(external_id), **fields
        )
        if inserted is not None:
            return _map().remember(inserted)
        row = _map().remember(
            model.get((model.account == getattr(account, "id", account)) & (model.external_id == str(external_id)))
        )
    # __data__ holds a foreign key as its id, so compare ids for related rows.
    changed = {k: v for k, v in fields.items() if row.__data__.get(k) != getattr(v, "id", v)}
    if changed:
        for name, value in changed.items():
            setattr(row, name, value)
        if "updated_at" in model._meta.fields:
            row.updated_at = utcnow()
            changed["updated_at"] = row.updated_at
        # Only the changed columns: the rest of the row as this batch read it may be stale by now
        # (PostgreSQL, several workers), and writing it back would undo another worker's change.
        update_row(row, *(model._meta.fields[name] for name in changed))
    return row


def find(model, account, external_id):
    """The account's mirror row with this external id, or None, through the batch's identity map."""
    return _find(model, account, external_id)


def move_applications(account, from_candidate_id, to_candidate_id):
    """A merge in the ATS: one candidate's applications become another's (created if the mirror
    lacks them). Returns the merged-away candidate, or None when the mirror does not know them."""
    merged_away = _find(Candidate, account, from_candidate_id)
    if merged_away is None:
        return None
    survivor = _upsert(Candidate, account, to_candidate_id)
    Application.update(candidate=survivor).where(Application.candidate == merged_away).execute()
    return merged_away


def record_ats_schedule(account, source, external_id, interviews, application_id=None, stage_id=None, **fields):
    """Mirror a schedule made in an ATS with its interviews, as the ATS has them now.

    Each interview is a mapping as schedule_changes describes one, with the ATS's id for it
    (`external_id`), the stage interview it instantiates (`interview_id`) and, for attendees, the
    answer the ATS knows (`response`). Interviews the schedule no longer has are removed; people
    still invited keep their answers unless the ATS says otherwise or their interview moved.
    An ATS's free-text location is kept as a room without a calendar address. Returns the schedule.
    """
    application = _upsert(Application, account, application_id) if application_id is not None else None
    stage = _upsert(Stage, account, stage_id) if stage_id is not None else None
    fields["organizer"] = user_for(account, fields.get("organizer"))
    schedule = _upsert(Schedule, account, external_id, source=source, application=application, stage=stage, **fields)
    existing = {si.external_id: si for si in schedule.interviews}
    wanted = {str(item["external_id"]) for item in interviews}
    for key, si in existing.items():
        if key not in wanted:
            si.delete_instance(recursive=True)
    for item in interviews:
        linked = _find(Interview, account, item["interview_id"]) if item.get("interview_id") is not None else None
        values = dict(
            interview=linked,
            name=item.get("name") or "",
            starts_at=to_utc(item["starts_at"]),
            ends_at=to_utc(item["ends_at"]),
            room_name=item.get("location") or None,
            room_email=None,
        )
        si = existing.get(str(item["external_id"]))
        moved = False
        if si is None:
            si = ScheduledInterview.create(
                account=account, schedule=schedule, external_id=str(item["external_id"]), **values
            )
        else:
            moved = (si.starts_at, si.ends_at) != (values["starts_at"], values["ends_at"])
            for name, value in values.items():
                setattr(si, name, value)
            si.save()
        _record_attendees(account, si, item.get("attendees") or (), moved)
    return schedule


def _record_attendees(account, si, attendees, moved):
    known = {(a.email.lower(), a.kind): a for a in si.attendees}
    keep = set()
    for attendee in attendees:
        key = (str(attendee["email"]).strip().lower(), attendee.get("kind") or "interviewer")
        keep.add(key)
        row = known.get(key)
        response = attendee.get("response") or (None if moved else getattr(row, "response", None)) or "needs_action"
        if row is None:
            Attendee.create(
                account=account,
                scheduled_interview=si,
                email=str(attendee["email"]).strip(),
                name=attendee.get("name") or "",
                kind=key[1],
                response=response,
            )
        elif (row.name, row.response) != (attendee.get("name") or row.name, response):
            row.name = attendee.get("name") or row.name
            row.response = response
            row.save()
    for key, row in known.items():
        if key not in keep:
            row.delete_instance()


def implied_moves(account, envelope):
    """The stage move a late move reveals, as an event that only resolves tasks.

    Vendors do not keep order, and Greenhouse does not send the previous stage.
    A move into a stage that arrives after the mirror saw a later move into
    another stage means the candidate left this stage at that later move: it is
    replayed with this stage as its previous one, so what the late move would
    open finds itself already resolved. Read before the event updates the mirror.
    """
    if envelope["type"] != "application.stage_changed":
        return []
    data = envelope.get("data") or {}
    app_rec, stage_rec = data.get("application"), data.get("stage")
    if not (isinstance(app_rec, dict) and isinstance(stage_rec, dict) and stage_rec.get("id") is not None):
        return []
    application = _by_external_id(Application, account, app_rec)
    if application is None:
        return []
    following = ApplicationMove.after(application, to_utc(envelope["occurred_at"]))
    if following is None or following.stage.external_id == str(stage_rec["id"]):
        return []
    moved = {
        "application": {"id": application.external_id},
        "stage": {"id": following.stage.external_id},
        "previous_stage": {"id": str(stage_rec["id"])},
    }
    if application.candidate_id:
        moved["candidate"] = {"id": application.candidate.external_id}
    if application.job_id:
        moved["job"] = {"id": application.job.external_id}
    implied = {
        "id": f"{envelope.get('id')}:implied-move",
        "source": "docket",
        "type": "application.stage_changed",
        "occurred_at": following.occurred_at.isoformat(),
    }
    return [dict(implied, data=enrich(account, moved))]


def apply(account, envelope):
    """Update the mirror from a normalised event and return its data enriched for the rules.

    The previous stage is read before the application moves, since ATSes
    like Greenhouse do not send it.
    """
    etype = envelope["type"]
    data = dict(envelope.get("data") or {})
    occurred_at = to_utc(envelope["occurred_at"])

    job = stage = candidate = application = None
    if isinstance(data.get("job"), dict) and data["job"].get("id") is not None:
        rec = data["job"]
        job = _upsert(
            Job,
            account,
            rec["id"],
            name=rec.get("name"),
            status=rec.get("status") or ("closed" if etype == "job.closed" else None),
            coordinator=user_for(account, rec.get("coordinator")),
            scheduling_enabled=rec.get("scheduling_enabled"),
            configured=True if etype == "job.configured" else rec.get("configured"),
            url=rec.get("url"),
        )
    if isinstance(data.get("stage"), dict) and data["stage"].get("id") is not None:
        rec = data["stage"]
        stage = _upsert(
            Stage,
            account,
            rec["id"],
            job=job,
            name=rec.get("name"),
            scheduling_enabled=rec.get("scheduling_enabled"),
            configured=True if etype == "stage.configured" else rec.get("configured"),
            deleted=True if etype == "stage.deleted" else None,
        )
    if isinstance(data.get("previous_stage"), dict) and data["previous_stage"].get("id") is not None:
        rec = data["previous_stage"]
        _upsert(Stage, account, rec["id"], job=job, name=rec.get("name"))
    interview = None
    if isinstance(data.get("interview"), dict) and data["interview"].get("id") is not None:
        rec = data["interview"]
        interview = _upsert(
            Interview,
            account,
            rec["id"],
            stage=stage,
            name=rec.get("name"),
            duration_minutes=rec.get("duration_minutes"),
            has_template=True if etype == "interview.configured" else rec.get("has_template"),
            deleted=True if etype == "interview.deleted" else None,
        )
    if isinstance(data.get("candidate"), dict) and data["candidate"].get("id") is not None:
        rec = data["candidate"]
        known = _find(Candidate, account, rec["id"])
        erased = known is not None and known.erased_at is not None  # an event never brings them back
        candidate = _upsert(
            Candidate,
            account,
            rec["id"],
            name=None if erased else rec.get("name"),
            email=None if erased else rec.get("email"),
            coordinator=user_for(account, rec.get("coordinator")),
            url=rec.get("url"),
        )
    if isinstance(data.get("application"), dict) and data["application"].get("id") is not None:
        rec = data["application"]
        application = _find(Application, account, rec["id"])
        # Only a move says where the candidate is (a schedule or an answer to an invite
        # may be about a stage they have left). Moves are kept in time order, so a
        # late one neither moves the candidate back nor loses which stage it left.
        is_move = etype == "application.stage_changed" and stage is not None
        latest = not (application and application.stage_changed_at and application.stage_changed_at > occurred_at)
        if is_move and "previous_stage" not in data and application:
            prior = ApplicationMove.before(application, occurred_at)
            prior_stage = _related(prior, "stage") if prior else (_related(application, "stage") if latest else None)
            if prior_stage is not None and prior_stage.id != stage.id:
                data["previous_stage"] = {"id": prior_stage.external_id}
        status = None
        if etype == "application.closed":
            status = str(data.get("reason") or rec.get("status") or "closed")
        moves = is_move and latest
        application = _upsert(
            Application,
            account,
            rec["id"],
            candidate=candidate,
            job=job,
            stage=stage if moves else None,
            stage_changed_at=occurred_at if moves else None,
            status=status or rec.get("status"),
            url=rec.get("url"),
        )
        if is_move:
            ApplicationMove.record(account, application, stage, occurred_at)
    if isinstance(data.get("schedule"), dict) and data["schedule"].get("id") is not None:
        rec = data["schedule"]
        status = {"schedule.cancelled": "cancelled"}.get(etype, rec.get("status"))
        if stage is None and interview is not None:
            stage = _related(interview, "stage")
        if stage is None and application is not None and etype == "schedule.created":
            # A schedule made in the ATS for an application names no stage: it is for the one
            # the candidate is in now, kept with the schedule for when they have moved on.
            stage = _related(application, "stage")
        _upsert(
            Schedule,
            account,
            rec["id"],
            application=application,
            stage=stage,
            status=status,
            organizer=user_for(account, rec.get("organizer")),
        )
    return enrich(account, data)


def _merge(event_record, mirror_record):
    """The event's record with what the mirror knows; the mirror (already updated from it) wins."""
    merged = dict(event_record) if isinstance(event_record, dict) else {}
    merged.update({k: v for k, v in mirror_record.items() if v is not None})
    return merged


def _by_external_id(model, account, rec):
    if isinstance(rec, dict) and rec.get("id") is not None:
        return _find(model, account, rec["id"])
    return None


def _named(data, name):
    return isinstance(data.get(name), dict) and data[name].get("id") is not None


def _link(data, name, row, field):
    """Name a record the event left out by the mirror row `row` links to through `field` (its id;
    the rest follows). Nothing is read when the event names the record itself."""
    if _named(data, name):
        return
    linked = _related(row, field)
    if linked is not None:
        data[name] = {"id": linked.external_id}


def _follow_links(account, data):
    """Add the records an event's records lead to in the mirror: schedule -> application and
    stage; interview -> stage; application -> candidate, job and current stage; stage -> job.

    A record the event names itself is never replaced: a schedule's stage says more about an
    invite's answer than the application's current stage does.
    """
    schedule = _by_external_id(Schedule, account, data.get("schedule"))
    if schedule is not None:
        _link(data, "application", schedule, "application")
        _link(data, "stage", schedule, "stage")
    interview = _by_external_id(Interview, account, data.get("interview"))
    if interview is not None:
        _link(data, "stage", interview, "stage")
    application = _by_external_id(Application, account, data.get("application"))
    if application is not None:
        _link(data, "candidate", application, "candidate")
        _link(data, "job", application, "job")
        _link(data, "stage", application, "stage")
    stage = _by_external_id(Stage, account, data.get("stage"))
    if stage is not None:
        _link(data, "job", stage, "job")
    return schedule


def _schedule_interviews(schedule):
    """A schedule's interviews as rules and templates see them: times, room and attendees (two
    statements, each built once: the interviews, then all their attendees)."""
    rows = list(
        rows_in(
            "schedule interviews",
            lambda: (
                ScheduledInterview.select(
                    ScheduledInterview.id,
                    ScheduledInterview.name,
                    ScheduledInterview.starts_at,
                    ScheduledInterview.ends_at,
                    ScheduledInterview.room_name,
                    ScheduledInterview.room_email,
                )
                .where(ScheduledInterview.schedule == 0)
                .order_by(ScheduledInterview.starts_at, ScheduledInterview.id)
            ),
            schedule.id,
        )
    )
    attendees = collections.defaultdict(list)
    if rows:
        query = rows_in(
            "schedule attendees",
            lambda: (
                Attendee.select(
                    Attendee.scheduled_interview, Attendee.email, Attendee.name, Attendee.kind, Attendee.response
                )
                .where(one_of(Attendee.scheduled_interview))
                .order_by(Attendee.id)
            ),
            values_of(row[0] for row in rows),
        )
        for interview_id, email, name, kind, response in query:
            attendees[interview_id].append({"email": email, "name": name, "kind": kind, "response": response})
    as_time = ScheduledInterview.starts_at.python_value
    return [
        {
            "name": name,
            "starts_at": as_time(starts_at).isoformat(),
            "ends_at": as_time(ends_at).isoformat(),
            "room": {"name": room_name, "email": room_email} if room_email else None,
            "attendees": attendees[interview_id],
        }
        for interview_id, name, starts_at, ends_at, room_name, room_email in rows
    ]


def _attendee(attendee, interviews):
    """The attendee as the schedule's invitations know them (kind and name), the event's word first."""
    email = str(attendee.get("email") or "").strip().lower()
    for interview in interviews:
        for known in interview["attendees"]:
            if known["email"].strip().lower() == email:
                said = {k: v for k, v in attendee.items() if v not in (None, "")}
                return {"name": known["name"] or None, "kind": known["kind"], **said}
    return attendee


def enrich(account, data):
    """The event's data with Docket's records: what its records lead to (a schedule's application,
    candidate, job and stage), coordinators, scheduling set-up, the account."""
    data = dict(data)
    schedule = _follow_links(account, data)
    job = _by_external_id(Job, account, data.get("job"))
    if job is not None:
        data["job"] = _merge(
            data["job"],
            {
                "name": job.name or None,
                "status": job.status,
                "coordinator": _person(_related(job, "coordinator")),
                "scheduling_enabled": job.scheduling_enabled,
                "configured": job.configured,
                "url": job.url,
            },
        )
    for name in ("stage", "previous_stage"):
        stage = _by_external_id(Stage, account, data.get(name))
        if stage is not None:
            data[name] = _merge(
                data[name],
                {
                    "name": stage.name or None,
                    "scheduling_enabled": stage.scheduling_enabled,
                    "configured": stage.configured,
                },
            )
    interview = _by_external_id(Interview, account, data.get("interview"))
    if interview is not None:
        data["interview"] = _merge(
            data["interview"],
            {
                "name": interview.name or None,
                "duration_minutes": interview.duration_minutes,
                "has_template": interview.has_template,
            },
        )
    candidate = _by_external_id(Candidate, account, data.get("candidate"))
    if candidate is not None:
        event_record = data["candidate"]
        if candidate.erased_at is not None:
            # Erased (webapp/erasure.py): what the event says of the person is not used.
            event_record = {k: v for k, v in event_record.items() if k not in ("name", "email")}
        data["candidate"] = _merge(
            event_record,
            {
                "name": candidate.name or None,
                "email": candidate.email,
                "coordinator": _person(_related(candidate, "coordinator")),
                "url": candidate.url,
            },
        )
    application = _by_external_id(Application, account, data.get("application"))
    if application is not None:
        data["application"] = _merge(data["application"], {"status": application.status, "url": application.url})
    if schedule is not None:
        interviews = _schedule_interviews(schedule)
        rooms = [i["room"] for i in interviews if i["room"]]
        data["schedule"] = _merge(
            data["schedule"],
            {
                "status": schedule.status,
                "organizer": _person(_related(schedule, "organizer")),
                "interviews": interviews,
                "starts_at": interviews[0]["starts_at"] if interviews else None,
                "room": rooms[0] if rooms else None,
            },
        )
        if isinstance(data.get("attendee"), dict):
            data["attendee"] = _attendee(data["attendee"], interviews)
    creator = _creator(account)
    data["account"] = {"name": account.name, **({"creator": creator.as_person()} if creator else {})}
    return data
