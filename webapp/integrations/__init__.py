"""Vendor adapters: each turns what its system sent into Docket's normalised events."""

# source -> callable(event_row) -> list of envelopes; vendors register here.
ADAPTERS = {}

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


# Importing the vendor modules registers their adapters (and their webhook endpoints' checks).
from . import ashby, greenhouse, lever  # noqa: E402, F401
