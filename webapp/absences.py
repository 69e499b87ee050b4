"""Out of office: setting, changing, ending and deleting a person's absence, and the moves of tasks
it makes, each in the task's history: at its start (when the person asked) their open tasks go to
whoever covers, and at their return what is still open and covered for them comes back.

Who gets a new task while someone is away is the rulebook's resolvers' to say
(webapp/rules/cover.py); the worker reads the absences of a batch's accounts once (routing_for).
"""

from __future__ import annotations

import datetime as dt

from . import live
from .db import database
from .models import Absence, Task, User, utcnow
from .rules.cover import Absences, Away
from .timezones import localtime, zone_of


class Invalid(Exception):
    """The absence could not be saved; `errors` says why, by form field."""

    def __init__(self, errors):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def routing_for(account_ids):
    """{account id: Absences} of the absences that still route tasks (not handed back yet): one query."""
    by_account = {}
    for account_id, starts_at, ends_at, email, backup in Absence.routing(account_ids):
        by_account.setdefault(account_id, []).append(Away(email, starts_at, ends_at, backup))
    return {account_id: Absences(away) for account_id, away in by_account.items()}


def when(absence, zone):
    """The absence's span in words, in `zone`: "Mon 14 Dec 2026 – Fri 18 Dec 2026" for whole days,
    with the times ("Mon 14 Dec 2026, 13:00 – …") when it starts or ends within a day."""
    starts, ends = absence.starts_at.astimezone(zone), absence.ends_at.astimezone(zone)
    first = localtime(starts, "%a %d %b %Y" if starts.time() == dt.time(0) else "%a %d %b %Y, %H:%M", zone)
    if ends.time() == dt.time(0):
        last = localtime(ends - dt.timedelta(days=1), "%a %d %b %Y", zone)
    else:
        last = localtime(ends, "%a %d %b %Y, %H:%M", zone)
    return first if first == last else f"{first} – {last}"


def save(person, starts_at, ends_at, backup_id, hand_over, set_by, absence=None, now=None):
    """Set (or, given `absence`, change) the person's absence from starts_at until ends_at (UTC),
    covered by the backup with this id (or nobody); raises Invalid. An absence begun already whose
    person wants their tasks handed over has them handed over at once. Returns (the absence, how
    many tasks were handed over)."""
    now = now or utcnow()
    if absence is not None and absence.returned_at is not None:
        raise Invalid({"ends_on": "That absence is over: it can no longer be changed."})
    errors = {}
    if ends_at <= starts_at:
        errors["ends_on"] = "The absence must end after it starts."
    elif ends_at <= now:
        errors["ends_on"] = "That absence would be over already: choose a last day from today on."
    backup = None
    if backup_id is not None:
        backup = User.get_or_none(User.account == person.account_id, User.id == backup_id)
        if backup is None:
            errors["backup"] = "Choose a backup from your account's people."
        elif backup.id == person.id:
            errors["backup"] = f"{person.display_name} cannot be their own backup: choose someone else."
    if not errors:
        other = Absence.overlapping(person, starts_at, ends_at, exclude=absence)
        if other is not None:
            span = when(other, zone_of(person))
            errors["starts_on"] = f"This overlaps the absence {span}: change that one instead."
    if errors:
        raise Invalid(errors)
    with database.atomic():
        if absence is None:
            absence = Absence(account=person.account_id, user=person)
        before = (absence.starts_at, absence.backup_id, absence.hand_over)
        absence.starts_at, absence.ends_at = starts_at, ends_at
        absence.backup, absence.hand_over, absence.set_by = backup, bool(hand_over), set_by
        absence.save()
        if absence.handed_over_at is not None and before != (starts_at, absence.backup_id, absence.hand_over):
            # Its start, backup or hand-over changed after the hand-over: what went over comes back,
            # to go over again as the absence now says (to the new backup, at the new start).
            _give_back(absence.account_id, person, "the absence changed")
            absence.handed_over_at = None
            absence.save(only=[Absence.handed_over_at])
        moved = start(absence, now) if absence.starts_at <= now else 0
    return absence, moved


def end_now(absence, now=None):
    """End an absence that has begun, now: what is covered for its person goes back to them."""
    now = now or utcnow()
    if absence.starts_at > now:
        raise Invalid({"ends_on": "That absence has not begun: delete it instead."})
    if absence.ends_at > now:
        absence.ends_at = now
        absence.save(only=[Absence.ends_at])
    return hand_back(absence, now)


def delete(absence, now=None):
    """Delete an absence; one under way ends first, so that what is covered goes back."""
    now = now or utcnow()
    with database.atomic():
        if absence.starts_at <= now:
            if absence.ends_at > now:  # ended first: hand_back must not find its person still away by it
                absence.ends_at = now
                absence.save(only=[Absence.ends_at])
            hand_back(absence, now)
        absence.delete_instance()


def start(absence, now=None):
    """At the start of an absence whose person asked for it, once: their open tasks go to whoever
    covers for them now (their backup, or the backup's down the chain). Returns how many moved."""
    now = now or utcnow()
    if not absence.hand_over or absence.returned_at is not None:
        return 0
    with database.atomic():
        person = User.get_by_id(absence.user_id)
        away = routing_for([absence.account_id]).get(absence.account_id, Absences())
        cover = away.cover(person.as_person(), now)
        if cover is None or cover.person is None:
            return 0  # nobody can cover yet: the tasks stay theirs, and the next sweep looks again
        if not absence.claim(Absence.handed_over_at, now):
            return 0  # done already, by the sweep or a save
        backup = User.get(User.account == absence.account_id, User.email == cover.person["email"])
        tasks = Task.open_assigned_to(absence.account_id, person)
        for task in tasks:
            # A task that already covers for someone else keeps covering for them.
            covered = task.covering_for if task.covering_for_id else person
            task.move_to(backup, covered, f"{backup.display_name} covering for {covered.display_name}, who is away")
    if tasks:
        live.publish_changes([absence.account_id])
    return len(tasks)


def hand_back(absence, now=None):
    """At the return, once: the open tasks covered for the person go back to them (those completed
    meanwhile stay completed). One away again by now keeps being covered. Returns how many moved."""
    now = now or utcnow()
    with database.atomic():
        if not absence.claim(Absence.returned_at, now):
            return 0
        person = User.get_by_id(absence.user_id)
        if person.id in Absence.away_now(absence.account_id, now):
            return 0  # away again (another absence): covered until that one ends
        moved = _give_back(absence.account_id, person, "who has returned")
    if moved:
        live.publish_changes([absence.account_id])
    return moved


def _give_back(account_id, person, why):
    """The live tasks covered for the person go back to them, each noted in its history; how many."""
    tasks = Task.open_covering_for(account_id, person)
    for task in tasks:
        by = task.assignee.display_name if task.assignee_id else "nobody"
        task.move_to(person, None, f"back to {person.display_name}, {why} (covered by {by})")
    return len(tasks)


def return_strays(now=None):
    """Tasks still covering for someone who is not away (opened by a batch that read the absences
    just before their return committed) go back to them. Returns how many."""
    now = now or utcnow()
    moved, changed = 0, set()
    for account_id, person_id in Task.covering_pairs():
        with database.atomic():
            if person_id in Absence.away_now(account_id, now):
                continue
            n = _give_back(account_id, User.get_by_id(person_id), "who is not away")
        moved += n
        if n:
            changed.add(account_id)
    if changed:
        live.publish_changes(changed)
    return moved


def sweep(now=None):
    """The periodic round's part (worker/jobs.py sweep): absences that have begun hand their
    person's tasks over, those that have ended hand them back. Returns (handed over, handed back)."""
    now = now or utcnow()
    started = sum(start(absence, now) for absence in Absence.starting(now))
    returned = sum(hand_back(absence, now) for absence in Absence.ended(now)) + return_strays(now)
    return started, returned
