"""The calendar port: what Docket asks of a calendar (Invitee, CalendarEvent, CalendarPort), the
in-memory calendar that stands in until one is connected, and the registry of providers."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from dataclasses import dataclass, field
from typing import Protocol

from ..models import Integration


@dataclass(frozen=True)
class Invitee:
    """Someone invited to a calendar event: an interviewer, a room (a resource) or the candidate."""

    email: str
    name: str = ""
    kind: str = "interviewer"  # interviewer, room or candidate


@dataclass(frozen=True)
class CalendarEvent:
    """What Docket asks a calendar to hold for one scheduled interview."""

    organizer: str  # the e-mail whose calendar holds the event
    title: str
    starts_at: dt.datetime  # aware UTC
    ends_at: dt.datetime
    invitees: tuple[Invitee, ...] = ()
    description: str = ""
    location: str = ""  # the room's name, when there is one
    # Docket's ids, so a calendar notification can be traced back to the schedule.
    schedule_id: str = ""
    scheduled_interview_id: str = ""


class CalendarError(Exception):
    """A calendar refused or failed: `code` is machine-readable (invalid_grant, forbidden, …)."""

    def __init__(self, message, code="error"):
        super().__init__(message)
        self.code = code


class CalendarPort(Protocol):
    """The operations schedules need; every implementation raises CalendarError on failure."""

    def create_event(self, event: CalendarEvent) -> str:
        """Put the event on the organizer's calendar and invite the invitees; returns its calendar id."""

    def update_event(self, event_id: str, event: CalendarEvent) -> None:
        """Change an event (time, invitees, room); the calendar re-sends invites as it does."""

    def cancel_event(self, event_id: str, organizer: str) -> None:
        """Cancel an event and notify its invitees."""


@dataclass
class MemoryCalendar:
    """A calendar in this process's memory: what tests and the demo schedule against."""

    events: dict[str, tuple[CalendarEvent, str]] = field(default_factory=dict)  # id -> (event, status)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def create_event(self, event: CalendarEvent) -> str:
        with self._lock:
            event_id = f"mem-{next(self._ids)}"
            self.events[event_id] = (event, "confirmed")
            return event_id

    def update_event(self, event_id: str, event: CalendarEvent) -> None:
        with self._lock:
            # This calendar forgets what it held when the process restarts (the demo's schedules
            # outlive it): an update of an event it has forgotten keeps the new version.
            self.events[event_id] = (event, "confirmed")

    def cancel_event(self, event_id: str, organizer: str) -> None:
        with self._lock:
            if event_id not in self.events:
                raise CalendarError(f"no calendar event {event_id}", code="not_found")
            self.events[event_id] = (self.events[event_id][0], "cancelled")


# account id -> MemoryCalendar, for accounts with no calendar connected.
_memory_calendars: dict[int, MemoryCalendar] = {}
# provider name -> factory(integration) -> CalendarPort; Google and Microsoft 365 register here.
PROVIDERS: dict = {}


def memory_calendar(account_id: int) -> MemoryCalendar:
    return _memory_calendars.setdefault(account_id, MemoryCalendar())


def calendar_for(account) -> CalendarPort:
    """The account's connected calendar (Google or Microsoft 365), else the in-memory one."""
    if PROVIDERS:
        integration = (
            Integration.select()
            .where(Integration.account == account, Integration.provider.in_(list(PROVIDERS)))
            .order_by(Integration.id)
            .first()
        )
        if integration is not None:
            return PROVIDERS[integration.provider](integration)
    return memory_calendar(account.id)
