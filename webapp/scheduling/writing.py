"""Writing schedules: book, edit and cancel a schedule's interviews (in the database and on the
calendar), and tell the inbox (schedule.created, schedule.updated, schedule.cancelled) so that the
rulebook completes the tasks the coordinator just resolved."""

from __future__ import annotations

import secrets
from dataclasses import asdict

from .. import schedule_changes
from ..calendars import CalendarError, calendar_for
from ..db import database
from ..inbox import accept
from ..models import AlreadyOpen, Attendee, Event, Schedule, ScheduledInterview, Task, utcnow
from .booking import calendar_event, cancel_quietly, refused
from .checks import check
from .slots import slots_of


def _candidate_of(schedule):
    """The candidate a schedule is for, or None."""
    application = schedule.application if schedule.application_id else None
    return application.candidate if application is not None and application.candidate_id else None


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
    wanted = slot.invitees(_candidate_of(schedule))
    existing = {(a.email, a.kind): a for a in si.attendees}
    keep = {(invitee.email, invitee.kind) for invitee in wanted}
    for key, attendee in existing.items():
        if key not in keep:
            attendee.delete_instance()
    for invitee in wanted:
        if (invitee.email, invitee.kind) not in existing:
            Attendee.create(account=schedule.account_id, scheduled_interview=si, **asdict(invitee))
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
                si.calendar_event_id = calendar.create_event(calendar_event(schedule, si, slot, candidate, actor))
                made.append(si.calendar_event_id)
                si.save()
    except CalendarError as exc:
        cancel_quietly(calendar, made, actor.email)
        raise refused(exc) from exc
    who = candidate.name if candidate is not None else "the candidate"
    _emit(account, "schedule.created", schedule, actor, {"summary": f"scheduled {who} for the {_stage_name(stage)}"})
    return schedule


def _stage_name(stage):
    return (stage.name if stage is not None and stage.name else "interview").lower()


def as_interview(slot, candidate=None):
    """A slot as schedule_changes describes an interview: its times and who it invites."""
    attendees = [asdict(invitee) for invitee in slot.invitees(candidate)]
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
    candidate = _candidate_of(schedule)
    changes = describe_changes(before, slots, candidate)
    try:
        with database.atomic():
            for index, slot in enumerate(slots):
                si = _write_slot(schedule, slot, existing[index] if index < len(existing) else None)
                event = calendar_event(schedule, si, slot, candidate, organizer)
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
        raise refused(exc) from exc
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
        raise refused(exc) from exc
    _emit(account, "schedule.cancelled", schedule, actor, {"summary": f"cancelled the {_stage_name(schedule.stage)}"})
    return True


# How long a cancellation made in Docket can be undone (the Undo of the notice that follows it).
UNDO_SECONDS = 30


class TooLateToUndo(Exception):
    """The cancellation cannot be undone any more (or not yet: its event is still being processed)."""


def restore_schedule(account, actor, schedule):
    """Undo a cancellation made a moment ago: the interviews go back on the calendar (everyone is
    invited again) and the tasks the cancellation changed go back as they were, in their history:
    what it completed is reopened, the Schedule Cancelled task it opened is completed.
    Raises TooLateToUndo after UNDO_SECONDS, or while its event waits to be processed."""
    row = Event.docket_cancellation_of(schedule)
    if schedule.status != "cancelled" or schedule.source or row is None:
        raise TooLateToUndo("this schedule is not a cancellation made in Docket")
    if (utcnow() - schedule.updated_at).total_seconds() > UNDO_SECONDS:
        raise TooLateToUndo(f"a cancellation can be undone for {UNDO_SECONDS} seconds")
    if row.status == Event.PENDING:
        raise TooLateToUndo("the cancellation is still being processed: try again in a moment")
    calendar = calendar_for(account)
    organizer = schedule.organizer or actor
    candidate = _candidate_of(schedule)
    slots = check(account, slots_of(schedule), schedule).slots
    interviews = list(schedule.interviews.order_by(ScheduledInterview.starts_at, ScheduledInterview.id))
    made = []
    try:
        with database.atomic():
            for si, slot in zip(interviews, slots, strict=True):
                si.calendar_event_id = calendar.create_event(calendar_event(schedule, si, slot, candidate, organizer))
                made.append(si.calendar_event_id)
                si.save()
            schedule.status = "scheduled"
            schedule.updated_at = utcnow()
            schedule.save()
            _restore_tasks(row, actor)
    except CalendarError as exc:
        cancel_quietly(calendar, made, organizer.email)
        raise refused(exc) from exc
    return schedule


def _restore_tasks(row, actor):
    """Put back the tasks the cancellation's row changed (see restore_schedule)."""
    note = "the cancellation was undone"
    for task in Task.select().where(Task.account == row.account_id, Task.completed_by_event == row.id):
        try:
            task.reopen_by(actor, note=note)
        except AlreadyOpen:
            pass  # the same work has an open task again: nothing to put back
    for task in Task.select().where(
        Task.account == row.account_id, Task.raised_by_event == row.id, Task.status.in_(Task.LIVE)
    ):
        task.complete_by(actor, note=note)


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
