"""What a calendar reports when Docket syncs it, in words common to Google and Microsoft 365."""

from __future__ import annotations

from dataclasses import dataclass, field

from .port import CalendarError

RESPONSES = ("accepted", "declined", "tentative", "needs_action")


@dataclass(frozen=True)
class AttendeeAnswer:
    """One invitee's answer as the calendar has it now."""

    email: str
    name: str
    response: str  # accepted, declined, tentative or needs_action


@dataclass(frozen=True)
class EventChange:
    """A calendar event that changed since the last sync, with every invitee's answer."""

    event_id: str
    occurred_at: str  # ISO-8601: when the calendar last changed it
    cancelled: bool = False
    answers: tuple[AttendeeAnswer, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Watch:
    """A channel or subscription the calendar opened: its id, resource and expiry."""

    channel_id: str
    expires_at: object  # aware datetime
    resource_id: str | None = None


class CursorExpired(CalendarError):
    """The sync token or delta link is no longer valid (Google's 410 fullSyncRequired): sync in full."""
