"""Scheduling a candidate in Docket: check a schedule's interviews, book them on the account's
calendar, and tell the inbox (schedule.created, schedule.updated, schedule.cancelled) so that
the rulebook completes the tasks the coordinator just resolved."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from . import schedule_changes
from .calendars import CalendarError, CalendarEvent, Invitee, calendar_for
from .calendars.health import CredentialsRejected, report_failure
from .db import database
from .inbox import accept
from .models import (
    Attendee,
    Interview,
    InterviewTemplate,
    JobDefaults,
    Room,
    Schedule,
    ScheduledInterview,
    User,
    utcnow,
)

# How long an interview lasts when neither its template nor its job says.
DEFAULT_DURATION_MINUTES = 60
# A form never books more than this many interviews at once.
MAX_INTERVIEWS = 12


class CalendarRefused(Exception):
    """The account's calendar would not take the schedule; nothing was saved."""


@dataclass
class Slot:
    """One interview of a schedule as the coordinator filled it in."""

    name: str = ""
    interview_id: int | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    interviewer_ids: list[int] = field(default_factory=list)
    room_id: int | None = None
    invite_candidate: bool = True
    # Filled in by check(): the account's records the ids name.
    interviewers: list = field(default_factory=list)
    room: Room | None = None

    @property
    def emails(self):
        """The e-mails booked by this interview: its interviewers and its room."""
        found = {u.email for u in self.interviewers}
        if self.room is not None:
            found.add(self.room.email)
        return found


@dataclass
class Plan:
    """A schedule as a form describes it, with the mistakes (by field) and clashes (by interview) found."""

    slots: list[Slot]
    errors: dict[str, str] = field(default_factory=dict)
    conflicts: dict[int, list[str]] = field(default_factory=dict)

    @property
    def valid(self):
        return not self.errors

    @property
    def has_conflicts(self):
        return any(self.conflicts.values())


def field_name(index, name):
    """The form field of one interview's value: interviews-0-starts_at."""
    return f"interviews-{index}-{name}"


def _parse_time(value):
    """A datetime-local value (taken as UTC, as the form says), or None when empty or malformed."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _int_or_none(value):
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def slots_from_form(form):
    """The interviews a schedule form posted, in order; malformed times stay None (check() says so)."""
    count = min(_int_or_none(form.get("interview_count")) or 0, MAX_INTERVIEWS)
    slots = []
    for index in range(count):

        def value(name, index=index):
            return form.get(field_name(index, name), "")

        slots.append(
            Slot(
                name=value("name").strip(),
                interview_id=_int_or_none(value("interview")),
                starts_at=_parse_time(value("starts_at")),
                ends_at=_parse_time(value("ends_at")),
                interviewer_ids=[int(v) for v in form.getlist(field_name(index, "interviewers")) if v.isdigit()],
                room_id=_int_or_none(value("room")),
                invite_candidate=value("invite_candidate") in ("1", "on", "true"),
            )
        )
    return slots


def slots_for_stage(account, stage, start=None):
    """A first draft for scheduling a stage: one interview per interview of the stage (or one for the
    stage itself), back to back from the next round hour tomorrow, with templates' and job's defaults."""
    interviews = (
        list(Interview.select().where(Interview.stage == stage, ~Interview.deleted).order_by(Interview.id))
        if stage is not None
        else []
    )
    templates = InterviewTemplate.for_interviews(interviews)
    defaults = JobDefaults.of_job(stage.job_id) if stage is not None and stage.job_id else None
    start = start or (utcnow() + dt.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    slots = []
    for interview in interviews or [None]:
        template = templates.get(interview.id) if interview else None
        minutes = (
            (template.duration_minutes if template else None)
            or (interview.duration_minutes if interview else None)
            or (defaults.duration_minutes if defaults else None)
            or DEFAULT_DURATION_MINUTES
        )
        interviewer_ids = list(
            (template.interviewer_ids if template else None) or (defaults.interviewer_ids if defaults else [])
        )
        slots.append(
            Slot(
                name=(interview.name if interview else None) or (stage.name if stage else "Interview"),
                interview_id=interview.id if interview else None,
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=minutes),
                interviewer_ids=interviewer_ids,
                room_id=template.room_id if template else None,
            )
        )
        start += dt.timedelta(minutes=minutes)
    return slots


def slots_of(schedule):
    """A schedule's interviews as slots, for its edit form."""
    rooms = {r.email: r for r in Room.of_account(schedule.account_id)}
    slots = []
    for si in schedule.interviews.order_by(ScheduledInterview.starts_at, ScheduledInterview.id):
        attendees = list(si.attendees)
        people = [a.email for a in attendees if a.kind == "interviewer"]
        users = (
            {u.email: u.id for u in User.select().where(User.account == schedule.account_id, User.email.in_(people))}
            if people
            else {}
        )
        room = rooms.get(si.room_email) if si.room_email else None
        slots.append(
            Slot(
                name=si.name,
                interview_id=si.interview_id,
                starts_at=si.starts_at,
                ends_at=si.ends_at,
                interviewer_ids=[users[e] for e in people if e in users],
                room_id=room.id if room else None,
                invite_candidate=any(a.kind == "candidate" for a in attendees),
            )
        )
    return slots


def check(account, slots, schedule=None):
    """The plan for these slots: field errors (nothing may be saved) and clashes with the account's
    other schedules (a warning: the coordinator may book anyway)."""
    plan = Plan(slots)
    users = {u.id: u for u in User.select().where(User.account == account)}
    rooms = {r.id: r for r in Room.of_account(account)}
    # The hidden link to the ATS's interview: one of another account's (or none at all) is dropped.
    linked = {s.interview_id for s in slots if s.interview_id is not None}
    known = set()
    if linked:
        query = Interview.select(Interview.id).where(Interview.account == account, Interview.id.in_(list(linked)))
        known = {i.id for i in query}
    for slot in slots:
        if slot.interview_id not in known:
            slot.interview_id = None
    if not slots:
        plan.errors["interviews"] = "Add at least one interview."
    for index, slot in enumerate(slots):
        slot.interviewers = [users[i] for i in slot.interviewer_ids if i in users]
        slot.room = rooms.get(slot.room_id)
        if not slot.name:
            plan.errors[field_name(index, "name")] = "Name the interview."
        if slot.starts_at is None:
            plan.errors[field_name(index, "starts_at")] = "Enter when the interview starts."
        if slot.ends_at is None:
            plan.errors[field_name(index, "ends_at")] = "Enter when the interview ends."
        elif slot.starts_at is not None and slot.ends_at <= slot.starts_at:
            plan.errors[field_name(index, "ends_at")] = "The end must be after the start."
        if not slot.interviewers:
            plan.errors[field_name(index, "interviewers")] = "Choose at least one interviewer."
        if slot.room_id is not None and slot.room is None:
            plan.errors[field_name(index, "room")] = "Choose one of the account's rooms."
    _room_booked_twice(plan)
    if not any(k.endswith(("starts_at", "ends_at")) for k in plan.errors):
        plan.conflicts = conflicts(account, slots, schedule)
    return plan


def _overlap(a, b):
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def _room_booked_twice(plan):
    """A room can hold one interview at a time: the same room for two overlapping interviews is an error."""
    timed = [
        (i, s) for i, s in enumerate(plan.slots) if s.room and s.starts_at and s.ends_at and s.ends_at > s.starts_at
    ]
    for position, (index, slot) in enumerate(timed):
        for earlier_index, earlier in timed[:position]:
            if earlier.room.id == slot.room.id and _overlap(earlier, slot):
                plan.errors.setdefault(
                    field_name(index, "room"),
                    f"{slot.room.name} is booked twice: interview {earlier_index + 1} is in it at that time.",
                )


def _when(start, end):
    return f"{start:%a %d %b, %H:%M}–{end:%H:%M} UTC"


def conflicts(account, slots, schedule=None):
    """{interview index: messages} for interviewers and rooms already booked at that time in the
    account's live schedules (other than `schedule`, which is being edited)."""
    found = {}
    for index, slot in enumerate(slots):
        if not (slot.starts_at and slot.ends_at and slot.ends_at > slot.starts_at):
            continue
        names = {u.email: u.display_name for u in slot.interviewers}
        if slot.room is not None:
            names[slot.room.email] = slot.room.name
        messages = []
        for attendee, booked, other in ScheduledInterview.bookings(
            account, slot.emails, slot.starts_at, slot.ends_at, exclude_schedule=schedule.id if schedule else None
        ):
            who = names.get(attendee.email) or attendee.name or attendee.email
            what = booked.name or "an interview"
            candidate = (
                other.application.candidate.name if other.application_id and other.application.candidate_id else ""
            )
            about = f"{what} with {candidate}" if candidate else what
            message = f"{who} is already booked {_when(booked.starts_at, booked.ends_at)} ({about})."
            if message not in messages:
                messages.append(message)
        if messages:
            found[index] = messages
    return found


# --- Saving -----------------------------------------------------------------------------------


def _title(slot, candidate):
    return f"{slot.name} — {candidate.name}" if candidate is not None else slot.name


def _calendar_event(schedule, si, slot, candidate, organizer):
    invitees = [Invitee(u.email, u.name, "interviewer") for u in slot.interviewers]
    if slot.room is not None:
        invitees.append(Invitee(slot.room.email, slot.room.name, "room"))
    if slot.invite_candidate and candidate is not None and candidate.email:
        invitees.append(Invitee(candidate.email, candidate.name, "candidate"))
    return CalendarEvent(
        organizer=organizer.email,
        title=_title(slot, candidate),
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        invitees=tuple(invitees),
        location=slot.room.name if slot.room else "",
        schedule_id=schedule.external_id,
        scheduled_interview_id=str(si.id),
    )


def _write_slot(schedule, slot, si=None):
    """Create or update a scheduled interview and its attendees from a slot (answers of people who
    stay invited are kept, unless the interview moved)."""
    fields = dict(
        interview=slot.interview_id,
        name=slot.name,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        room_name=slot.room.name if slot.room else None,
        room_email=slot.room.email if slot.room else None,
    )
    moved = False
    if si is None:
        si = ScheduledInterview.create(account=schedule.account_id, schedule=schedule, **fields)
    else:
        moved = (si.starts_at, si.ends_at) != (slot.starts_at, slot.ends_at)
        for name, value in fields.items():
            setattr(si, name, value)
        si.save()
    candidate = (
        schedule.application.candidate if schedule.application_id and schedule.application.candidate_id else None
    )
    wanted = [(u.email, u.name, "interviewer") for u in slot.interviewers]
    if slot.room is not None:
        wanted.append((slot.room.email, slot.room.name, "room"))
    if slot.invite_candidate and candidate is not None and candidate.email:
        wanted.append((candidate.email, candidate.name, "candidate"))
    existing = {(a.email, a.kind): a for a in si.attendees}
    keep = {(email, kind) for email, _, kind in wanted}
    for key, attendee in existing.items():
        if key not in keep:
            attendee.delete_instance()
    for email, name, kind in wanted:
        if (email, kind) not in existing:
            Attendee.create(account=schedule.account_id, scheduled_interview=si, email=email, name=name, kind=kind)
    if moved:
        # A new time is a new question: whoever declined the old one may accept this one, and a
        # decline of the new time must be news to the calendar sync.
        Attendee.update(response="needs_action").where(Attendee.scheduled_interview == si).execute()
    return si


def create_schedule(account, actor, application, stage, slots):
    """Book a checked plan's slots for an application's stage; the calendar invites everyone, and
    schedule.created goes to the inbox. Raises CalendarRefused (nothing saved) if the calendar fails."""
    calendar = calendar_for(account)
    made = []
    try:
        with database.atomic():
            schedule = Schedule.create(
                account=account,
                external_id=f"sch_{secrets.token_hex(8)}",
                application=application,
                stage=stage,
                organizer=actor,
                created_by=actor,
            )
            candidate = application.candidate if application.candidate_id else None
            for slot in slots:
                si = _write_slot(schedule, slot)
                si.calendar_event_id = calendar.create_event(_calendar_event(schedule, si, slot, candidate, actor))
                made.append(si.calendar_event_id)
                si.save()
    except CalendarError as exc:
        _cancel_quietly(calendar, made, actor.email)
        raise _refused(exc) from exc
    who = candidate.name if candidate is not None else "the candidate"
    _emit(account, "schedule.created", schedule, actor, {"summary": f"scheduled {who} for the {_stage_name(stage)}"})
    return schedule


def _refused(exc):
    """The coordinator's error for a calendar that failed. Refused credentials are reported again
    here, after the transaction rolled back: the broken integration (its task, its banner) stays."""
    if isinstance(exc, CredentialsRejected) and exc.integration is not None:
        report_failure(exc.integration, exc.code, str(exc))
    return CalendarRefused(str(exc))


def _cancel_quietly(calendar, event_ids, organizer):
    """Undo calendar events made before the calendar failed; a failure here is already reported."""
    for event_id in event_ids:
        try:
            calendar.cancel_event(event_id, organizer)
        except CalendarError:
            pass  # the first failure is the one the coordinator needs to see


def _stage_name(stage):
    return (stage.name if stage is not None and stage.name else "interview").lower()


def as_interview(slot, candidate=None):
    """A slot as schedule_changes describes an interview: its times and who it invites."""
    attendees = [{"email": u.email, "name": u.name, "kind": "interviewer"} for u in slot.interviewers]
    if slot.room is not None:
        attendees.append({"email": slot.room.email, "name": slot.room.name, "kind": "room"})
    if slot.invite_candidate and candidate is not None and candidate.email:
        attendees.append({"email": candidate.email, "name": candidate.name, "kind": "candidate"})
    return {"name": slot.name, "starts_at": slot.starts_at, "ends_at": slot.ends_at, "attendees": attendees}


def describe_changes(before, after, candidate=None):
    """What an edit changed, in the coordinator's words and for rules (see schedule_changes)."""
    return schedule_changes.describe(
        [as_interview(slot, candidate) for slot in before], [as_interview(slot, candidate) for slot in after]
    )


def update_schedule(account, actor, schedule, slots):
    """Save an edit of a schedule: its interviews are updated in place (and on the calendar),
    added or cancelled, and schedule.updated goes to the inbox with what changed."""
    if schedule.status == "cancelled":
        raise ValueError("a cancelled schedule cannot be edited")
    if schedule.source:
        raise ValueError(f"a schedule made in {schedule.source} is edited there")
    before = check(account, slots_of(schedule), schedule).slots
    calendar = calendar_for(account)
    organizer = schedule.organizer or actor
    existing = list(schedule.interviews.order_by(ScheduledInterview.starts_at, ScheduledInterview.id))
    candidate = (
        schedule.application.candidate if schedule.application_id and schedule.application.candidate_id else None
    )
    changes = describe_changes(before, slots, candidate)
    try:
        with database.atomic():
            for index, slot in enumerate(slots):
                si = _write_slot(schedule, slot, existing[index] if index < len(existing) else None)
                event = _calendar_event(schedule, si, slot, candidate, organizer)
                if si.calendar_event_id:
                    calendar.update_event(si.calendar_event_id, event)
                else:
                    si.calendar_event_id = calendar.create_event(event)
                    si.save()
            for si in existing[len(slots) :]:
                if si.calendar_event_id:
                    calendar.cancel_event(si.calendar_event_id, organizer.email)
                si.delete_instance(recursive=True)
            schedule.updated_at = utcnow()
            schedule.save()
    except CalendarError as exc:
        raise _refused(exc) from exc
    changes["summary"] = f"{changes['summary']} the {_stage_name(schedule.stage)}"
    _emit(account, "schedule.updated", schedule, actor, changes)
    return schedule


def cancel_schedule(account, actor, schedule):
    """Cancel a schedule: its calendar events are cancelled (invitees are told) and
    schedule.cancelled goes to the inbox. Cancelling twice does nothing the second time."""
    if schedule.status == "cancelled":
        return False
    if schedule.source:
        raise ValueError(f"a schedule made in {schedule.source} is cancelled there")
    calendar = calendar_for(account)
    organizer = schedule.organizer or actor
    try:
        with database.atomic():
            for si in schedule.interviews:
                if si.calendar_event_id:
                    try:
                        calendar.cancel_event(si.calendar_event_id, organizer.email)
                    except CalendarError as exc:
                        if exc.code != "not_found":  # already gone from the calendar is what we want
                            raise
            schedule.status = "cancelled"
            schedule.updated_at = utcnow()
            schedule.save()
    except CalendarError as exc:
        raise _refused(exc) from exc
    _emit(account, "schedule.cancelled", schedule, actor, {"summary": f"cancelled the {_stage_name(schedule.stage)}"})
    return True


def _emit(account, etype, schedule, actor, changes):
    """Put Docket's own event about a schedule into the inbox, as any other source would."""
    application = schedule.application if schedule.application_id else None
    candidate = application.candidate if application is not None and application.candidate_id else None
    job = application.job if application is not None and application.job_id else None
    stage = schedule.stage if schedule.stage_id else None
    data = {
        "schedule": {
            "id": schedule.external_id,
            "status": schedule.status,
            "organizer": schedule.organizer.as_person() if schedule.organizer_id else None,
        },
        "actor": actor.as_person(),
        "changes": changes,
    }
    if application is not None:
        data["application"] = {"id": application.external_id}
    if candidate is not None:
        data["candidate"] = {"id": candidate.external_id, "name": candidate.name, "email": candidate.email}
    if job is not None:
        data["job"] = {"id": job.external_id, "name": job.name}
    if stage is not None:
        data["stage"] = {"id": stage.external_id, "name": stage.name}
    emit(account, etype, data)


def emit(account, etype, data):
    """Accept one of Docket's own events (source "docket") into the inbox; returns the inbox row."""
    now = utcnow()
    event_id = f"{etype}:{secrets.token_hex(10)}"
    envelope = {
        "id": event_id,
        "source": "docket",
        "type": etype,
        "occurred_at": now.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    row, _ = accept(account, "docket", event_id, envelope, type=etype, occurred_at=now)
    return row
