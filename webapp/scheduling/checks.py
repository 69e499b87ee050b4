"""Checking a schedule before it is booked: the mistakes that stop it (by form field) and the
clashes with the account's other schedules that the coordinator may book anyway."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..models import Interview, Room, ScheduledInterview, User
from ..timezones import localtime
from .slots import Slot


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
    """An interview's time in the coordinator's zone: "Tue 01 Dec, 10:00–11:00 EST"."""
    return f"{localtime(start, 'day')}–{localtime(end, '%H:%M %Z')}"


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
