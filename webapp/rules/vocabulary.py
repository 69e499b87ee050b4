"""The closed event vocabulary the rulebook may speak: event types, their records, fields and resolvers."""

from __future__ import annotations

from dataclasses import dataclass

# Field kinds. A field is a scalar, a list, a nested record (named by its record kind),
# or ANY: a free-form mapping whose sub-paths are not checked.
SCALAR = "scalar"
BOOL = "bool"
LIST = "list"
ANY = "any"
# An ISO-8601 time: what a rule's `due:` may name.
TIME = "time"

RECORD_FIELDS: dict[str, dict[str, str]] = {
    "person": {"email": SCALAR, "name": SCALAR},
    "room": {"name": SCALAR, "email": SCALAR},
    "application": {"id": SCALAR, "status": SCALAR, "url": SCALAR},
    "candidate": {
        "id": SCALAR,
        "name": SCALAR,
        "email": SCALAR,
        "coordinator": "person",
        "url": SCALAR,
    },
    "job": {
        "id": SCALAR,
        "name": SCALAR,
        "status": SCALAR,
        "coordinator": "person",
        "scheduling_enabled": BOOL,
        "url": SCALAR,
    },
    "stage": {
        "id": SCALAR,
        "name": SCALAR,
        "scheduling_enabled": BOOL,
        "configured": BOOL,
        "url": SCALAR,
    },
    "interview": {
        "id": SCALAR,
        "name": SCALAR,
        "duration_minutes": SCALAR,
        "has_template": BOOL,
    },
    "schedule": {
        "id": SCALAR,
        "status": SCALAR,
        "organizer": "person",
        "interviews": LIST,
        "room": "room",
        "starts_at": TIME,
    },
    "attendee": {"email": SCALAR, "name": SCALAR, "kind": SCALAR},
    "integration": {
        "id": SCALAR,
        "kind": SCALAR,
        "provider": SCALAR,
        "name": SCALAR,
        "owner": "person",
    },
    "error": {"code": SCALAR, "message": SCALAR},
    # What an edit of a schedule changed (webapp/schedule_changes.py makes it for every source).
    "changes": {
        "summary": SCALAR,
        "interviews": LIST,
        "added_attendees": LIST,
        "removed_attendees": LIST,
        "rescheduled_attendees": LIST,
        "moved": BOOL,
        "room_switched": BOOL,
        "rooms": "before_after",
        "times": "before_after",
    },
    "before_after": {"before": LIST, "after": LIST},
    "account": {"name": SCALAR, "creator": "person"},
}

# What each name in an event's `data` is: a record kind, a scalar, or free-form.
DATA_NAMES: dict[str, str] = {
    "application": "application",
    "candidate": "candidate",
    "job": "job",
    "stage": "stage",
    "previous_stage": "stage",
    "interview": "interview",
    "schedule": "schedule",
    "attendee": "attendee",
    "response": SCALAR,
    "reason": SCALAR,
    "actor": "person",
    "changes": "changes",
    "integration": "integration",
    "error": "error",
    "account": "account",
    # candidate.erased: the surviving record of a merge, and the ids of the candidate's applications
    # (the event's, the mirror's and those of the candidate's open tasks: the worker fills them in).
    "merged_into": "candidate",
    "applications": LIST,
}


@dataclass(frozen=True)
class EventType:
    """One event type: the names its `data` carries and what it means when it resolves a task."""

    name: str
    records: frozenset[str]
    reason: str


def _event(name: str, records: list[str], reason: str) -> EventType:
    # The worker enriches every event with the account, so every type has it.
    return EventType(name, frozenset([*records, "account"]), reason)


_SCHEDULE = ["schedule", "application", "candidate", "job", "stage", "interview", "actor", "changes"]

EVENT_TYPES: dict[str, EventType] = {
    t.name: t
    for t in [
        _event(
            "application.stage_changed",
            ["application", "candidate", "job", "stage", "previous_stage"],
            "the candidate moved to another stage",
        ),
        _event(
            "application.closed",
            ["application", "candidate", "job", "stage", "reason"],
            "the application was closed",
        ),
        # A candidate deleted, anonymised or merged away (into `merged_into`) in the ATS: their open
        # tasks complete (or, after a merge, follow the survivor) and Docket erases what it holds of
        # them (webapp/erasure.py).
        _event(
            "candidate.erased",
            ["candidate", "reason", "merged_into", "applications"],
            "the candidate's personal data was erased",
        ),
        _event("job.created", ["job"], "the job was created"),
        _event("job.closed", ["job"], "the job was closed"),
        _event("stage.created", ["job", "stage"], "the stage was added"),
        _event("stage.deleted", ["job", "stage"], "the stage was deleted"),
        _event(
            "interview.created",
            ["job", "stage", "interview"],
            "the interview was added",
        ),
        _event(
            "interview.deleted",
            ["job", "stage", "interview"],
            "the interview was deleted",
        ),
        _event(
            "attendee.responded",
            [
                "schedule",
                "application",
                "candidate",
                "job",
                "stage",
                "interview",
                "attendee",
                "response",
            ],
            "the attendee responded to the invite",
        ),
        _event("schedule.created", _SCHEDULE, "the schedule was created"),
        _event("schedule.updated", _SCHEDULE, "the schedule was edited"),
        _event("schedule.cancelled", _SCHEDULE, "the schedule was cancelled"),
        _event("job.configured", ["job", "actor"], "the job was set up"),
        _event("stage.configured", ["job", "stage", "actor"], "the stage was set up"),
        _event(
            "interview.configured",
            ["job", "stage", "interview", "actor"],
            "the interview was set up",
        ),
        _event("integration.failed", ["integration", "error"], "the integration failed"),
        _event(
            "integration.restored",
            ["integration", "error"],
            "the integration works again",
        ),
    ]
}

# Assignee resolvers: each names the path of a person in the event's data.
RESOLVERS: dict[str, str] = {
    "candidate.coordinator": "candidate",
    "job.coordinator": "job",
    "integration.owner": "integration",
    "account.creator": "account",
}

PRIORITIES = ("low", "normal", "high", "urgent")


def path_kind(event_type: str, path: str) -> str | None:
    """The kind of value at a dotted path in events of `event_type`, or None if it cannot be there."""
    head, *rest = path.split(".")
    if head not in EVENT_TYPES[event_type].records:
        return None
    kind = DATA_NAMES[head]
    for segment in rest:
        if kind == ANY:
            return ANY
        fields = RECORD_FIELDS.get(kind)
        if fields is None or segment not in fields:
            return None
        kind = fields[segment]
    return kind


def known_paths(event_type: str) -> list[str]:
    """Every dotted path events of `event_type` may have (for did-you-mean suggestions)."""
    paths: list[str] = []

    def walk(prefix: str, kind: str) -> None:
        paths.append(prefix)
        for field, sub in RECORD_FIELDS.get(kind, {}).items():
            walk(f"{prefix}.{field}", sub)

    for name in sorted(EVENT_TYPES[event_type].records):
        walk(name, DATA_NAMES[name])
    return paths


def resolver_allowed(event_type: str, resolver: str) -> bool:
    """Whether the resolver's record is part of events of `event_type`."""
    return RESOLVERS[resolver] in EVENT_TYPES[event_type].records
