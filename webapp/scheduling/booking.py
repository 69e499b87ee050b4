"""Booking a schedule's interviews on the account's calendar: the event each interview becomes,
and what the coordinator is told when the calendar refuses."""

from ..calendars import CalendarError, CalendarEvent
from ..calendars.health import CredentialsRejected, report_failure


class CalendarRefused(Exception):
    """The account's calendar would not take the schedule; nothing was saved."""


def _title(slot, candidate):
    return f"{slot.name} — {candidate.name}" if candidate is not None else slot.name


def calendar_event(schedule, si, slot, candidate, organizer):
    """The calendar event a scheduled interview (si) is, as its slot describes it."""
    return CalendarEvent(
        organizer=organizer.email,
        title=_title(slot, candidate),
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        invitees=tuple(slot.invitees(candidate)),
        location=slot.room.name if slot.room else "",
        schedule_id=schedule.external_id,
        scheduled_interview_id=str(si.id),
    )


def refused(exc):
    """The coordinator's error for a calendar that failed. Refused credentials are reported again
    here, after the transaction rolled back: the broken integration (its task, its banner) stays."""
    if isinstance(exc, CredentialsRejected) and exc.integration is not None:
        report_failure(exc.integration, exc.code, str(exc))
    return CalendarRefused(str(exc))


def cancel_quietly(calendar, event_ids, organizer):
    """Undo calendar events made before the calendar failed; a failure here is already reported."""
    for event_id in event_ids:
        try:
            calendar.cancel_event(event_id, organizer)
        except CalendarError:
            pass  # the first failure is the one the coordinator needs to see
