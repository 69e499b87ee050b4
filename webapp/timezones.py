"""Times as each person reads and enters them: in their own time zone (User.time_zone, an IANA name),
while everything is stored and compared in UTC. `localtime` is the one way templates show a time."""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo, available_timezones

from flask import current_app, has_request_context
from flask_login import current_user

# The working day the schedule form proposes its first interview in: weekdays, 9:00 to 17:00.
WORKDAY_START, WORKDAY_END = dt.time(9, 0), dt.time(17, 0)
# A proposed interview is at least this far ahead, on a half-hour boundary.
LEAD_TIME = dt.timedelta(hours=1)
SLOT_STEP_MINUTES = 30

STYLES = {
    "datetime": "%d %b %Y, %H:%M",
    "full": "%a %d %b %Y, %H:%M %Z",
    "seconds": "%Y-%m-%d %H:%M:%S",
    "date": "%d %b %Y",
    "day": "%a %d %b, %H:%M",
    "time": "%H:%M",
}


@functools.cache
def zone_names():
    """Every IANA zone name this machine knows, sorted (the profile page's choices)."""
    return sorted(available_timezones() - {"localtime", "Factory"})


def is_zone(name):
    """Whether `name` is a known IANA zone: checked against the list, never opened as a path."""
    return isinstance(name, str) and name in _zone_set()


@functools.cache
def _zone_set():
    return frozenset(zone_names())


def default_zone_name():
    """The app's zone for people who have not said theirs (DEFAULT_TIME_ZONE, UTC when unset)."""
    name = current_app.config.get("DEFAULT_TIME_ZONE") or "UTC"
    return name if is_zone(name) else "UTC"


def zone_of(user):
    """A person's zone, or the app's default when theirs is not known."""
    name = getattr(user, "time_zone", "") or ""
    return ZoneInfo(name if is_zone(name) else default_zone_name())


def current_zone():
    """The signed-in person's zone (the default for anyone else). Cheap: ZoneInfo keeps each zone it loads."""
    if has_request_context() and current_user.is_authenticated:
        return zone_of(current_user)
    return ZoneInfo(default_zone_name())


def localtime(moment, style="datetime", zone=None):
    """A stored (UTC) time as text in `zone` (the signed-in person's by default); "" for None."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(zone or current_zone()).strftime(STYLES.get(style, style))


def from_local(naive, zone=None):
    """A wall-clock time someone entered (naive, in `zone`, theirs by default) as an aware UTC time."""
    return naive.replace(tzinfo=zone or current_zone()).astimezone(dt.UTC)


def to_local(moment, zone=None):
    """An aware time as the wall-clock time of `zone` (theirs by default), naive: a form's value."""
    return moment.astimezone(zone or current_zone()).replace(tzinfo=None)


def next_working_slot(now, zone):
    """The first half-hour boundary at least LEAD_TIME after `now` that falls within a weekday's
    working hours in `zone`, as an aware UTC time: what the schedule form proposes."""
    earliest = (now + LEAD_TIME).astimezone(zone)
    local = earliest.replace(minute=earliest.minute - earliest.minute % SLOT_STEP_MINUTES, second=0, microsecond=0)
    if local < earliest:
        local += dt.timedelta(minutes=SLOT_STEP_MINUTES)
    for _ in range(8):  # at most a long weekend's worth of days to skip
        opens = dt.datetime.combine(local.date(), WORKDAY_START, zone)
        closes = dt.datetime.combine(local.date(), WORKDAY_END, zone)
        if local.weekday() < 5 and local < closes:
            return max(local, opens).astimezone(dt.UTC)
        local = dt.datetime.combine(local.date() + dt.timedelta(days=1), WORKDAY_START, zone)
    return local.astimezone(dt.UTC)


def elsewhere(moment, people, zone=None):
    """ "16:00 for Lee Park (Europe/London)" for each person (a User) whose known zone's clock differs
    from `zone`'s (the viewer's) at `moment`, with the weekday when it is another day there; people
    whose zone is not known are left out."""
    mine = moment.astimezone(zone or current_zone())
    notes = []
    for person in people:
        name = getattr(person, "time_zone", "") or ""
        if not is_zone(name):
            continue
        theirs = moment.astimezone(ZoneInfo(name))
        if theirs.utcoffset() != mine.utcoffset():
            day = "" if theirs.date() == mine.date() else theirs.strftime(" %a")
            notes.append(f"{theirs:%H:%M}{day} for {person.display_name} ({name})")
    return notes


def init_app(app):
    """Register the `localtime` filter and the zone helpers templates use."""
    app.add_template_filter(localtime, "localtime")
    app.add_template_global(current_zone, "current_zone")
    app.add_template_global(elsewhere, "times_elsewhere")
