"""The calendar port: how Docket puts a schedule's interviews on calendars, whichever calendar
an account uses. Google and Microsoft 365 plug in here; until one is connected, the in-memory
calendar stands in (tests and the demo use it)."""

# Importing the vendor modules registers Google Calendar and Microsoft 365 in PROVIDERS.
from . import google, microsoft  # noqa: F401
from .port import (  # noqa: F401
    PROVIDERS,
    CalendarError,
    CalendarEvent,
    CalendarPort,
    Invitee,
    MemoryCalendar,
    calendar_for,
    memory_calendar,
)
