"""The event inbox's front door: store an event (once per source and id) and wake a worker."""

from peewee import IntegrityError

from .db import database, retry_if_dropped
from .models import Event, insert_row, to_utc
from .queue import request_drain


def accept(account, source, external_id, payload, type="", occurred_at=None):
    """Store an event in the inbox (once per source and id) and wake a worker.

    Returns (event row, created); a redelivery returns the first row and False.
    """

    def store():
        with database.atomic():
            return insert_row(
                Event,
                account=account,
                source=source,
                external_id=str(external_id),
                type=type,
                payload=payload,
                occurred_at=to_utc(occurred_at) if occurred_at else None,
            )

    try:
        row = retry_if_dropped(store)
    except IntegrityError:
        row = Event.get(Event.account == account, Event.source == source, Event.external_id == str(external_id))
        return row, False
    request_drain()
    return row, True
