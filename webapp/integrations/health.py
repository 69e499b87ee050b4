"""An ATS integration's health: a refused API key or a vendor that stopped answering raises
integration.failed (once per outage, the Broken Integration task), and the next good answer
integration.restored. Syncs and webhooks' look-ups report here.
"""

from __future__ import annotations

import logging

from ..db import database, is_postgres
from ..envelope import envelope, record
from ..inbox import accept
from ..models import Integration, utcnow
from ..queue import request_drain
from .base import iso

log = logging.getLogger(__name__)


def health_event(integration, etype, episode, now, code=None, message=None):
    error = record(code=code, message=message) if code else None
    return envelope(
        "docket",
        f"integration:{integration.id}:{etype.split('.')[1]}:{episode}",
        etype,
        now,
        integration=integration.as_record(),
        error=error,
    )


def accept_events(integration, events):
    """Into the inbox as Docket's own envelopes (made here from the ATS's API, so trusted as they
    are), whatever `source` each names: a webhook row of the ATS is never taken for an envelope."""
    for event in events:
        accept(
            integration.account,
            "docket",
            event["id"],
            event,
            type=event["type"],
            occurred_at=event["occurred_at"],
        )


def mark_failing(integration, now, code, message):
    """The integration is broken: one integration.failed per outage (Broken Integration task)."""
    integration = Integration.get_by_id(integration.id)  # the user cache may have been saved meanwhile
    state = dict(integration.state or {})
    events = []
    with database.atomic():
        if integration.status != Integration.FAILING:
            state["outages"] = state.get("outages", 0) + 1
            events.append(health_event(integration, "integration.failed", state["outages"], now, code, message))
        integration.status = Integration.FAILING
        integration.last_error = message
        integration.state = state
        integration.save()
        accept_events(integration, events)
    request_drain(force=True)
    log.warning("%s integration %s failing: %s", integration.display_name, integration.id, message)
    return {"status": "failing", "events": [e["type"] for e in events]}


# What each vendor calls the key Docket is given, for the Broken Integration task's message.
API_KEY_NAMES = {"greenhouse": "Harvest API key"}


def report_refused_key(integration, exc, now=None):
    """The vendor refused the API key or its permissions (401/403), in a sync or a webhook's look-up."""
    key = API_KEY_NAMES.get(integration.provider, "API key")
    message = f"{integration.display_name} refused the {key} ({exc.status}): {exc.message}"
    return mark_failing(integration, now or iso(utcnow()), f"http_{exc.status}", message)


def report_working(integration, now=None):
    """The vendor answered a webhook's look-up with the key: a failing integration is restored
    (integration.restored completes its Broken Integration task), as a good sync restores it."""
    if integration.status != Integration.FAILING:
        return None  # the usual case: no query, no lock
    with database.atomic():
        query = Integration.select().where(Integration.id == integration.id)
        fresh = (query.for_update() if is_postgres() else query).first()
        if fresh is None or fresh.status != Integration.FAILING:
            return None  # another worker restored it meanwhile
        episode = (fresh.state or {}).get("outages", 0)
        event = health_event(fresh, "integration.restored", episode, now or iso(utcnow()))
        Integration.update(status=Integration.OK, last_error=None).where(Integration.id == fresh.id).execute()
        accept_events(fresh, [event])
    integration.status, integration.last_error = Integration.OK, None
    request_drain(force=True)
    log.info("%s integration %s works again", integration.display_name, integration.id)
    return event
