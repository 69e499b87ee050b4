"""An example event of each vocabulary type, every field filled with a value of its kind.

Checking a rulebook renders each template against these, so a template that compiles but fails
when it meets data (`{{ 1/0 }}`, `{{ candidate.name + 1 }}`, `{{ ''.__class__ }}`) is a problem
the admin sees on Check, not an event that fails in the worker.
"""

from __future__ import annotations

import functools
from typing import Any

from . import vocabulary as vocab

# Field values where a plain string would not be the kind the field holds.
_SCALARS = {
    "id": "ex-1",
    "email": "sam.lee@example.test",
    "name": "Sam Lee",
    "url": "https://ats.example.test/1",
    "status": "open",
    "kind": "interviewer",
    "duration_minutes": 45,
    "starts_at": "2026-01-05T15:00:00Z",
    "summary": "Sam Lee removed; Onsite moved",
    "code": "http_401",
    "message": "the API key was refused",
    "provider": "greenhouse",
    "response": "declined",
    "reason": "rejected",
}
_ATTENDEES = [
    {"email": "sam.lee@example.test", "name": "Sam Lee", "kind": "interviewer"},
    {"email": "room-4a@example.test", "name": "Room 4A", "kind": "room"},
]
_INTERVIEW = {
    "name": "Onsite",
    "starts_at": "2026-01-05T15:00:00Z",
    "ends_at": "2026-01-05T16:00:00Z",
    "attendees": _ATTENDEES,
}
# Lists by field name: what each one holds in real events.
_LISTS = {
    "interviews": [_INTERVIEW],
    "added_attendees": ["dana.wu@example.test"],
    "removed_attendees": ["sam.lee@example.test"],
    "rescheduled_attendees": ["lee.park@example.test"],
    "before": ["Room 4A"],
    "after": ["Room 5B"],
}


def _value(field: str, kind: str, depth: int = 0) -> Any:
    if kind == vocab.BOOL:
        return True
    if kind == vocab.LIST:
        return _LISTS.get(field, ["example"])
    if kind == vocab.ANY:
        return {}
    if kind in (vocab.SCALAR, vocab.TIME):
        return _SCALARS.get(field, f"example {field}")
    fields = vocab.RECORD_FIELDS.get(kind, {})
    return {name: _value(name, sub, depth + 1) for name, sub in fields.items()} if depth < 4 else {}


@functools.cache
def example_data(event_type: str) -> dict[str, Any]:
    """The `data` of an example event of the type (treat it as read-only)."""
    return {name: _value(name, vocab.DATA_NAMES[name]) for name in sorted(vocab.EVENT_TYPES[event_type].records)}
