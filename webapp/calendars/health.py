"""Whether a calendar integration works: credentials the calendar refused become one
`integration.failed` per outage (one Broken Integration task), and the first success after it
`integration.restored`, which completes that task. Same event ids as the ATS sync's, so an
integration has one outage counter whoever notices it."""

from __future__ import annotations

import logging
from contextlib import contextmanager

from ..db import database
from ..envelope import envelope, record
from ..integrations.base import iso
from ..models import Integration, utcnow
from ..queue import request_drain
from .port import CalendarError

log = logging.getLogger(__name__)

SETTINGS_HINT = "reconnect under Settings → Integrations"


class CredentialsRejected(CalendarError):
    """The calendar no longer accepts Docket's credentials (revoked, expired, not delegated, 401/403).

    Nothing Docket retries will fix it: a person has to reconnect the integration.
    `integration` is the one that refused, for a caller whose transaction rolled back the report.
    """

    integration = None


class WatchLost(CalendarError):
    """A channel or subscription could not be renewed, so notifications stop."""


def _health_event(integration, etype, episode, code=None, message=None):
    error = record(code=code, message=message) if code else None
    return envelope(
        "docket",
        f"integration:{integration.id}:{etype.split('.')[1]}:{episode}",
        etype,
        iso(utcnow()),
        integration=integration.as_record(),
        error=error,
    )


def _accept(integration, event):
    from ..inbox import accept

    accept(integration.account, "docket", event["id"], event, type=event["type"], occurred_at=event["occurred_at"])


def report_failure(integration, code, message):
    """Mark the integration broken; the first failure of an outage raises integration.failed."""
    raised = False
    with database.atomic():
        integration = Integration.get_by_id(integration.id)
        state = dict(integration.state or {})
        if integration.status != Integration.FAILING:
            state["outages"] = state.get("outages", 0) + 1
            _accept(integration, _health_event(integration, "integration.failed", state["outages"], code, message))
            raised = True
        state["failure_code"] = code
        integration.status = Integration.FAILING
        integration.last_error = message
        integration.state = state
        integration.save()
    if raised:
        request_drain(force=True)
    log.warning("%s integration %s is broken: %s", integration.provider, integration.id, message)
    return raised


def report_success(integration, unless=None):
    """Note that the integration worked; the first success after an outage raises integration.restored.

    unless: a failure code this success does not disprove (a sync working says nothing of a
    watch that could not be renewed).
    """
    if Integration.select(Integration.status).where(Integration.id == integration.id).scalar() != Integration.FAILING:
        return False
    with database.atomic():
        integration = Integration.get_by_id(integration.id)
        state = dict(integration.state or {})
        if integration.status != Integration.FAILING or (unless and state.get("failure_code") == unless):
            return False
        _accept(integration, _health_event(integration, "integration.restored", state.get("outages", 0)))
        state.pop("failure_code", None)
        integration.status = Integration.OK
        integration.last_error = None
        integration.state = state
        integration.save()
    request_drain(force=True)
    return True


def domain_of(integration, calendar=None):
    """Whose calendars these are, in a coordinator's words: the Google domain or Microsoft tenant."""
    credentials = integration.credentials or {}
    if credentials.get("domain"):
        return credentials["domain"]
    if credentials.get("tenant_id"):
        return credentials["tenant_id"]
    if calendar and "@" in calendar:
        return calendar.split("@", 1)[1]
    return integration.account.name


@contextmanager
def refusals_reported(integration):
    """Credentials the vendor refuses inside the block are reported (one Broken Integration per
    outage) and raised on, carrying the integration: the calendar clients' one guard."""
    try:
        yield
    except CredentialsRejected as exc:
        exc.integration = integration
        report_failure(integration, exc.code, str(exc))
        raise
