"""Scheduling a candidate in Docket, one concern per module: `slots` (a schedule's interviews as the
coordinator sees them), `form` (the schedule form), `checks` (mistakes and clashes), `booking` (the
calendar's events) and `writing` (saving schedules and telling the inbox). This module only hands
on the names its callers outside the package use."""

from .booking import CalendarRefused
from .checks import check
from .form import slots_from_form
from .slots import Slot
from .writing import TooLateToUndo, cancel_schedule, create_schedule, emit, restore_schedule, update_schedule

__all__ = [
    "CalendarRefused",
    "Slot",
    "TooLateToUndo",
    "cancel_schedule",
    "check",
    "create_schedule",
    "emit",
    "restore_schedule",
    "slots_from_form",
    "update_schedule",
]
