"""Docket's event envelope: building one, and checking that one has the shape DESIGN.md gives it,
naming the field that does not."""

import datetime as dt

from .inbound import MAX_ID_LENGTH
from .rules import EVENT_TYPES

# Records that carry an id when present; people and answers do not.
RECORDS_WITH_ID = (
    "application",
    "candidate",
    "job",
    "stage",
    "previous_stage",
    "interview",
    "schedule",
    "integration",
    "merged_into",
)


class EnvelopeError(ValueError):
    """A malformed envelope; `field` is the dotted path of the first field at fault."""

    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse_time(value, field="occurred_at"):
    """An ISO-8601 time with a time zone, as an aware datetime."""
    if not isinstance(value, str):
        raise EnvelopeError(field, "must be an ISO-8601 string such as 2026-11-28T10:00:00Z")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise EnvelopeError(field, f"{value!r} is not an ISO-8601 time") from None
    if parsed.tzinfo is None:
        raise EnvelopeError(field, "needs a time zone (for example a trailing Z)")
    try:
        parsed.astimezone(dt.UTC)
    except OverflowError:
        raise EnvelopeError(field, f"{value!r} is outside the years a time can have in UTC") from None
    return parsed


def validate(envelope, source="api"):
    """The envelope, checked and with its source set; raises EnvelopeError."""
    if not isinstance(envelope, dict):
        raise EnvelopeError("(body)", "must be a JSON object")
    unknown = set(envelope) - {"id", "source", "type", "occurred_at", "data"}
    if unknown:
        raise EnvelopeError(sorted(unknown)[0], "is not a field of an event envelope")
    event_id = envelope.get("id")
    if not isinstance(event_id, str) or not event_id.strip():
        raise EnvelopeError("id", "is required: a non-empty string, repeated on redelivery")
    if len(event_id) > MAX_ID_LENGTH:
        raise EnvelopeError("id", f"is longer than {MAX_ID_LENGTH} characters")
    if envelope.get("source", source) != source:
        raise EnvelopeError("source", f"must be {source!r} here")
    etype = envelope.get("type")
    if not isinstance(etype, str) or etype not in EVENT_TYPES:
        raise EnvelopeError("type", f"{etype!r} is not an event type; known: {', '.join(sorted(EVENT_TYPES))}")
    parse_time(envelope.get("occurred_at"))
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise EnvelopeError("data", "is required: an object of records")
    if "account" in data:
        raise EnvelopeError("data.account", "is Docket's to fill in, not the sender's")
    for name in RECORDS_WITH_ID:
        if name in data:
            record = data[name]
            if not isinstance(record, dict):
                raise EnvelopeError(f"data.{name}", "must be an object")
            record_id = record.get("id")
            if not isinstance(record_id, str | int) or isinstance(record_id, bool) or str(record_id).strip() == "":
                raise EnvelopeError(f"data.{name}.id", "is required: a string")
            if len(str(record_id)) > MAX_ID_LENGTH:
                raise EnvelopeError(f"data.{name}.id", f"is longer than {MAX_ID_LENGTH} characters")
    return dict(envelope, source=source)


def envelope(source, event_id, etype, occurred_at, **data):
    """A Docket envelope; records whose value is None are left out."""
    return {
        "id": str(event_id),
        "source": source,
        "type": etype,
        "occurred_at": occurred_at,
        "data": {k: v for k, v in data.items() if v is not None},
    }


def record(**fields):
    """A record with its None fields left out and its id as a string."""
    out = {k: v for k, v in fields.items() if v is not None}
    if "id" in out:
        out["id"] = str(out["id"])
    return out
