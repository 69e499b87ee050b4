"""What an inbox row stands for: its adapter's envelopes, as the pipeline applies them, and the
rulebook's events among them, read-only (to replay, explain or describe a row)."""

from . import ats_schedules, mirror
from .integrations import VENDORS, normalise

# Envelopes adapters make only to keep the mirror current (and hand a candidate's open tasks
# over): the pipeline applies them and the rulebook never sees them.
MIRROR_ONLY = (
    "candidate.updated",
    "candidate.merged",
    "candidate.coordinator_reported",
    "job.updated",
    "application.created",
)


def envelopes_of(row):
    """The envelopes an inbox row stands for, as its adapter makes them from the row and what the
    vendor's look-ups found (kept on the row or in the integration's caches)."""
    integration = mirror.integration(row.account_id, row.source) if row.source in VENDORS else None
    return normalise(row, integration)


def rulebook_events(row):
    """The rulebook's events an inbox row stands for on the mirror as it is now, reading only:
    mirror-only envelopes are left out, and schedule reports resolved without being recorded."""
    events = []
    for envelope in envelopes_of(row):
        if envelope["type"] in MIRROR_ONLY:
            continue
        if envelope["type"] in ats_schedules.REPORTS:
            events.extend(ats_schedules.resolve(row.account, envelope, record_it=False)[0])
        else:
            events.append(envelope)
    return events


def enriched_events(row):
    """The rulebook's events of an inbox row as the rulebook reads them: each with the row's id and
    source, its records completed from the mirror as it is now (not as it was then)."""
    return [
        {
            "id": str(row.external_id),
            "source": row.source,
            **envelope,
            "data": mirror.enrich(row.account, envelope.get("data") or {}),
        }
        for envelope in rulebook_events(row)
    ]
