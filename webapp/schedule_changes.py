"""What an edit of a schedule changed, as the structured `changes` every `schedule.updated` carries,
whoever made the edit (Docket's form, or the ATS: Harvest, Ashby).

Rules complete tasks from it: an interviewer's decline when they are removed or their interview
moves, a room's when the room is switched, a candidate's when the interview moves. An interview
is described as a plain mapping, so that the scheduling form and the ATS adapters share one diff:

    {"name": "Onsite", "starts_at": datetime, "ends_at": datetime,
     "attendees": [{"email": "kim@acme.test", "name": "Kim", "kind": "interviewer" | "room" | "candidate"}]}

An ATS may say where an interview is only as text ("Big Conference Room", "Google Meet"): an
optional `"location"` is compared too, when the room (a calendar address) did not change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# The verbs of a summary, in the order a summary says them.
_VERBS = (
    "rescheduled",
    "swapped interviewers in",
    "changed the interviewers of",
    "switched the room of",
    "moved the location of",
    "added an interview to",
    "removed an interview from",
    "changed the candidate's invitation to",
)


def _emails(interview: Mapping[str, Any], kind: str | None = None) -> list[str]:
    # As the invitation has them (tasks are keyed by them); compared without regard to case.
    return [
        str(a["email"]).strip()
        for a in interview.get("attendees") or ()
        if a.get("email") and (kind is None or a.get("kind") == kind)
    ]


def _without(emails: list[str], others: list[str]) -> list[str]:
    """The e-mails of `emails` that `others` does not have, whatever their case."""
    known = {e.lower() for e in others}
    return [e for e in emails if e.lower() not in known]


def _iso(moment) -> str | None:
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z") if hasattr(moment, "isoformat") else str(moment)


def _when(interview: Mapping[str, Any]) -> dict[str, str | None]:
    return {"starts_at": _iso(interview.get("starts_at")), "ends_at": _iso(interview.get("ends_at"))}


def _label(interview: Mapping[str, Any], index: int) -> str:
    return interview.get("name") or f"interview {index + 1}"


def _room(interview: Mapping[str, Any]) -> str | None:
    rooms = _emails(interview, "room")
    return rooms[0] if rooms else None


def _room_name(interview: Mapping[str, Any]) -> str | None:
    room = next((a for a in interview.get("attendees") or () if a.get("kind") == "room"), None)
    return (room.get("name") or room.get("email")) if room else None


def _when_text(interview: Mapping[str, Any]) -> str:
    start, end = interview.get("starts_at"), interview.get("ends_at")
    if not (hasattr(start, "strftime") and hasattr(end, "strftime")):
        return f"{_iso(start)}–{_iso(end)}"
    return f"{start:%a %d %b, %H:%M}–{end:%H:%M} UTC"


def _ordered(emails) -> list[str]:
    return list(dict.fromkeys(emails))


def describe(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The changes between two versions of a schedule's interviews, paired by position.

    `summary` says it in the coordinator's words ("rescheduled and switched the room of"; the
    caller adds what was edited); `interviews` lists each change; the rest is for rules:
    `added_attendees` / `removed_attendees` (per interview: left an interview they were in),
    `rescheduled_attendees` (the attendees of an interview whose time changed), `moved`,
    `room_switched`, and `rooms` / `times` before and after.
    """
    items: list[dict[str, Any]] = []
    verbs: set[str] = set()
    added: list[str] = []
    removed: list[str] = []
    rescheduled: list[str] = []
    for index, new in enumerate(after):
        label = _label(new, index)
        old = before[index] if index < len(before) else None
        if old is None:
            items.append({"interview": label, "change": "added"})
            verbs.add("added an interview to")
            added.extend(_emails(new))
            continue
        if _when(old) != _when(new):
            items.append({"interview": label, "change": "time", "from": _when_text(old), "to": _when_text(new)})
            verbs.add("rescheduled")
            rescheduled.extend(_emails(new))
        old_people, new_people = _emails(old, "interviewer"), _emails(new, "interviewer")
        gone, came = _without(old_people, new_people), _without(new_people, old_people)
        if gone or came:
            items.append({"interview": label, "change": "interviewers", "removed": gone, "added": came})
            verbs.add("swapped interviewers in" if gone and came else "changed the interviewers of")
        if (_room(old) or "").lower() != (_room(new) or "").lower():
            items.append({"interview": label, "change": "room", "from": _room_name(old), "to": _room_name(new)})
            verbs.add("switched the room of")
        elif (old.get("location") or "") != (new.get("location") or ""):
            items.append(
                {"interview": label, "change": "location", "from": old.get("location"), "to": new.get("location")}
            )
            verbs.add("moved the location of")
        old_candidate, new_candidate = _emails(old, "candidate"), _emails(new, "candidate")
        if bool(old_candidate) != bool(new_candidate):
            change = "candidate_invited" if new_candidate else "candidate_uninvited"
            items.append({"interview": label, "change": change})
            verbs.add("changed the candidate's invitation to")
        old_all, new_all = _emails(old), _emails(new)
        removed.extend(_without(old_all, new_all))
        added.extend(_without(new_all, old_all))
    for index in range(len(after), len(before)):
        items.append({"interview": _label(before[index], index), "change": "removed"})
        verbs.add("removed an interview from")
        removed.extend(_emails(before[index]))
    chosen = [verb for verb in _VERBS if verb in verbs]
    return {
        "summary": " and ".join(chosen) if chosen else "edited",
        "interviews": items,
        "added_attendees": _ordered(added),
        "removed_attendees": _ordered(removed),
        "rescheduled_attendees": _ordered(rescheduled),
        "moved": "rescheduled" in verbs,
        "room_switched": "switched the room of" in verbs,
        "rooms": {
            "before": _ordered(r for r in map(_room, before) if r),
            "after": _ordered(r for r in map(_room, after) if r),
        },
        "times": {"before": [_when(i) for i in before], "after": [_when(i) for i in after]},
    }
