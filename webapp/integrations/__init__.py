"""Vendor adapters: each turns what its system sent into Docket's normalised events."""

# source -> callable(event_row) -> list of envelopes; vendors register here.
ADAPTERS = {}

# source -> vendor, for the vendors with look-ups to make before a batch's transaction.
PREPARERS = {}

# Sources whose payload is already a Docket envelope (calendar syncs store envelopes they made).
NATIVE_SOURCES = ("api", "docket", "google", "microsoft")


def normalise(event_row):
    """The Docket events an inbox row stands for; an empty list means there is nothing to do."""
    if event_row.source in NATIVE_SOURCES:
        return [event_row.payload]
    adapter = ADAPTERS.get(event_row.source)
    if adapter is None:
        raise LookupError(f"no adapter for source {event_row.source!r}")
    return adapter(event_row)


def prepare(event_row):
    """Make the vendor look-ups an inbox row will need, outside any transaction (see Vendor.prepare)."""
    from ..models import Integration

    vendor = PREPARERS.get(event_row.source)
    if vendor is not None:
        vendor.prepare(event_row, Integration.of(event_row.account_id, vendor.name))


# Importing the vendor modules registers their adapters (and their webhook endpoints' checks).
from . import ashby, greenhouse, lever  # noqa: E402, F401
