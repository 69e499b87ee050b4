"""Vendor adapters: each turns what its system sent into Docket's normalised events."""

from ..claims import key_for
from ..models import Event, utcnow
from .base import VENDORS, Vendor

# Sources whose payload is already a Docket envelope (calendar syncs store envelopes they made).
NATIVE_SOURCES = ("api", "docket", "google", "microsoft")


def normalise(event_row, integration=None):
    """The envelopes an inbox row stands for, as its adapter makes them from the row and what the
    vendor's look-ups left on it or in the integration's caches; nothing is read or written.
    An empty list means there is nothing to do."""
    if event_row.source in NATIVE_SOURCES:
        return [event_row.payload]
    vendor = VENDORS.get(event_row.source)
    if vendor is None:
        raise LookupError(f"no adapter for source {event_row.source!r}")
    return vendor.normalise(event_row, vendor.lookups(event_row, integration))


def claim_key(source, external_id, payload, account=None):
    """A vendor delivery's partition in the inbox (webapp/claims.py), read in the envelopes its
    adapter makes of the payload alone, before any look-up; one no adapter reads is its account's."""
    row = Event(source=source, external_id=str(external_id), payload=payload, received_at=utcnow())
    try:
        envelopes = normalise(row)
    except Exception:  # the pipeline records why, when it processes the row
        envelopes = []
    return key_for(envelopes, account)


def preparing_sources():
    """The sources whose rows need vendor look-ups before a batch's transaction."""
    return [name for name, vendor in VENDORS.items() if type(vendor).prepare is not Vendor.prepare]


def prepare(event_row, integration):
    """Make the vendor look-ups an inbox row will need, outside any transaction (see Vendor.prepare)."""
    vendor = VENDORS.get(event_row.source)
    if vendor is not None:
        vendor.prepare(event_row, integration)


# Importing the vendor modules registers their adapters (and their webhook endpoints' checks).
from . import ashby, greenhouse, lever  # noqa: E402, F401
