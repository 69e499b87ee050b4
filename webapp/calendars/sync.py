"""Keeping Docket in step with connected calendars: a watch (Google channel, Graph subscription)
on every organizer's calendar that holds upcoming interviews, renewed before it expires and
stopped when no longer needed; syncs when a notification comes and, to catch a dropped one,
at least every 15 minutes; and each changed answer to an invite raised as `attendee.responded`.

Vendor I/O lives in google.py and microsoft.py; this module decides what to do with it.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from flask import current_app, has_app_context

from ..db import database
from ..envelope import envelope, record
from ..integrations.base import iso
from ..models import Attendee, CalendarWatch, Integration, Schedule, ScheduledInterview, User, utcnow
from ..queue import request_drain
from . import google, microsoft
from .changes import CursorExpired
from .health import SETTINGS_HINT, CredentialsRejected, WatchLost, report_failure, report_success
from .port import CalendarError

log = logging.getLogger(__name__)

# Every calendar is reconciled (synced without a notification) when its last sync is this old;
# maintenance runs often enough that no calendar goes more than 15 minutes without one.
DEFAULT_RECONCILE_SECONDS = 600
DEFAULT_MAINTENANCE_SECONDS = 240
# Watches are asked for this long, and renewed when less than RENEW_MARGIN is left.
DEFAULT_WATCH_TTL_SECONDS = 3 * 24 * 3600
DEFAULT_RENEW_MARGIN_SECONDS = 24 * 3600
# Interviews that ended this long ago no longer need their calendar watched.
WATCH_AFTER_END = dt.timedelta(days=1)
# A first (full) sync looks back this far for events Docket made.
FULL_SYNC_LOOKBACK = dt.timedelta(days=30)

SYNC_JOB = "worker.jobs.sync_calendar"
MAINTAIN_JOB = "worker.jobs.maintain_calendars"
RENEW_FAILED = "renew_failed"


def _setting(name, default):
    value = current_app.config.get(name) if has_app_context() else None
    return dt.timedelta(seconds=float(value if value is not None else default))


def provider_module(integration):
    """The vendor module of a calendar integration."""
    return {"google": google, "microsoft": microsoft}[integration.provider]


def calendar_integrations():
    return Integration.select().where(Integration.provider.in_(list(Integration.CALENDAR_PROVIDERS)))


def wanted_calendars(integration, now=None):
    """Organizers whose calendars hold the account's upcoming interviews with a calendar event."""
    now = now or utcnow()
    query = (
        ScheduledInterview.select(User.email)
        .join(Schedule)
        .join(User, on=(Schedule.organizer == User.id))
        .where(
            ScheduledInterview.account == integration.account_id,
            ScheduledInterview.calendar_event_id.is_null(False),
            ScheduledInterview.ends_at > now - WATCH_AFTER_END,
            Schedule.status != "cancelled",
        )
        .distinct()
        .tuples()
    )
    return sorted({email.lower() for (email,) in query})


def notification_url(integration):
    """Where the calendar posts notifications for this account."""
    from ..integrations.cli import public_url

    return f"{public_url()}/webhooks/{integration.provider}/{integration.account.webhook_key}"


# -- Answers to invites -------------------------------------------------------------------------


def _records(schedule):
    application = schedule.application
    data = {"schedule": record(id=schedule.external_id)}
    if application is not None:
        data["application"] = record(id=application.external_id)
        if application.candidate_id:
            candidate = application.candidate
            data["candidate"] = record(id=candidate.external_id, name=candidate.name or None, email=candidate.email)
        if application.job_id:
            data["job"] = record(id=application.job.external_id, name=application.job.name or None)
    if schedule.stage_id:
        data["stage"] = record(id=schedule.stage.external_id, name=schedule.stage.name or None)
    return data


def apply_changes(integration, changes):
    """Compare each invitee's answer with what Docket knew; raise attendee.responded for each change.

    The attendee's new answer and the inbox row are written in one transaction, and the answer
    only changes from the one read, so two syncs racing raise it once.
    """
    from ..inbox import accept

    raised = []
    for change in changes:
        if change.cancelled or not change.answers:
            continue
        interviews = list(
            ScheduledInterview.select().where(
                ScheduledInterview.account == integration.account_id,
                ScheduledInterview.calendar_event_id == change.event_id,
            )
        )
        for interview in interviews:
            known = {a.email.strip().lower(): a for a in interview.attendees}
            for answer in change.answers:
                attendee = known.get(answer.email)
                if attendee is None or attendee.response == answer.response:
                    continue
                schedule = interview.schedule
                occurred_at = iso(change.occurred_at)
                event_id = f"{change.event_id}:{answer.email}:{answer.response}:{occurred_at}"
                event = envelope(
                    integration.provider,
                    event_id,
                    "attendee.responded",
                    occurred_at,
                    **_records(schedule),
                    attendee={"email": attendee.email, "name": attendee.name or answer.name, "kind": attendee.kind},
                    response=answer.response,
                )
                with database.atomic():
                    updated = (
                        Attendee.update(response=answer.response)
                        .where(Attendee.id == attendee.id, Attendee.response == attendee.response)
                        .execute()
                    )
                    if updated:
                        accept(
                            integration.account,
                            integration.provider,
                            event_id,
                            event,
                            type="attendee.responded",
                            occurred_at=occurred_at,
                        )
                        raised.append(event)
    if raised:
        request_drain(force=True)
    return raised


# -- Syncing one calendar -----------------------------------------------------------------------


def _sync(integration, watch, now):
    """Incremental sync of one watched calendar (a full one without a cursor, or when it expired)."""
    vendor = provider_module(integration)
    try:
        found, cursor = vendor.changes(integration, watch.calendar, watch.cursor, now - FULL_SYNC_LOOKBACK)
    except CursorExpired:
        log.info("sync cursor of %s expired: full resync", watch.calendar)
        found, cursor = vendor.changes(integration, watch.calendar, None, now - FULL_SYNC_LOOKBACK)
    raised = apply_changes(integration, found)
    CalendarWatch.update(cursor=cursor, last_synced_at=now).where(CalendarWatch.id == watch.id).execute()
    return raised


def sync_watch(watch_id, now=None):
    """Sync one watched calendar by id (a notification came, or its reconciliation is due)."""
    now = now or utcnow()
    watch = CalendarWatch.get_or_none(CalendarWatch.id == watch_id)
    if watch is None:
        return None
    integration = watch.integration
    # Notifications that arrive from here on ask for another sync.
    CalendarWatch.update(sync_requested_at=None).where(
        CalendarWatch.id == watch.id, CalendarWatch.sync_requested_at <= now
    ).execute()
    try:
        raised = _sync(integration, watch, now)
    except CredentialsRejected as exc:
        report_failure(integration, exc.code, str(exc))
        return {"status": "failing", "events": []}
    # A sync that works says the credentials work, not that a lost watch was renewed.
    report_success(integration, unless=RENEW_FAILED)
    return {"status": "ok", "events": [e["type"] for e in raised]}


# -- Maintenance: watches, renewals, reconciliation ---------------------------------------------


def _open_watch(integration, calendar, now, row=None):
    """Open a channel or subscription on a calendar and record it (a new row, or a renewed one)."""
    vendor = provider_module(integration)
    row = row or CalendarWatch(account=integration.account_id, integration=integration, calendar=calendar)
    channel_id = f"docket-{uuid.uuid4()}"
    opened = vendor.watch(
        integration,
        calendar,
        channel_id,
        row.channel_token,
        notification_url(integration),
        _setting("CALENDAR_WATCH_TTL_SECONDS", DEFAULT_WATCH_TTL_SECONDS).total_seconds(),
    )
    row.channel_id = opened.channel_id
    row.resource_id = opened.resource_id
    row.expires_at = opened.expires_at
    row.status = CalendarWatch.ACTIVE
    row.save()
    return row


def _renew(integration, watch, now):
    """Keep notifications coming: Graph extends a subscription; Google needs a new channel, then
    the old one is stopped (the overlap loses nothing)."""
    vendor = provider_module(integration)
    ttl = _setting("CALENDAR_WATCH_TTL_SECONDS", DEFAULT_WATCH_TTL_SECONDS)
    if hasattr(vendor, "renew") and watch.status == CalendarWatch.ACTIVE:
        expires_at = vendor.renew(integration, watch.calendar, watch.channel_id, now + ttl)
        if expires_at is not None:
            CalendarWatch.update(expires_at=expires_at).where(CalendarWatch.id == watch.id).execute()
            return
        # The subscription is gone: open a new one below.
    old_channel, old_resource, was_active = watch.channel_id, watch.resource_id, watch.status == CalendarWatch.ACTIVE
    _open_watch(integration, watch.calendar, now, row=watch)
    if was_active and old_channel:
        try:
            vendor.stop(integration, watch.calendar, old_channel, old_resource)
        except CalendarError as exc:  # it expires by itself; a failed stop is only noise
            log.info("could not stop the old channel %s: %s", old_channel, exc)


def _needs_renewal(watch, now, margin):
    return watch.status != CalendarWatch.ACTIVE or watch.expires_at is None or watch.expires_at - now < margin


def maintain(integration_id, now=None):
    """Watch the calendars that hold upcoming interviews, renew what expires, stop what is unused,
    and reconcile calendars not synced lately. Returns a summary."""
    now = now or utcnow()
    integration = Integration.get_or_none(Integration.id == integration_id)
    if integration is None or integration.provider not in Integration.CALENDAR_PROVIDERS:
        return None
    vendor = provider_module(integration)
    margin = _setting("CALENDAR_RENEW_MARGIN_SECONDS", DEFAULT_RENEW_MARGIN_SECONDS)
    reconcile = _setting("CALENDAR_RECONCILE_SECONDS", DEFAULT_RECONCILE_SECONDS)
    summary = {"opened": [], "renewed": [], "stopped": [], "synced": [], "events": []}
    wanted = set(wanted_calendars(integration, now))
    watches = {w.calendar: w for w in CalendarWatch.select().where(CalendarWatch.integration == integration)}
    renew_failures = []
    try:
        for calendar in sorted(wanted - watches.keys()):
            watches[calendar] = _open_watch(integration, calendar, now)
            summary["opened"].append(calendar)
        for calendar, watch in sorted(watches.items()):
            if calendar not in wanted:
                if watch.status == CalendarWatch.ACTIVE and watch.channel_id:
                    vendor.stop(integration, calendar, watch.channel_id, watch.resource_id)
                watch.delete_instance()
                summary["stopped"].append(calendar)
                continue
            # Notifications stopped while a watch was expired or removed: sync to catch up.
            lapsed = watch.status != CalendarWatch.ACTIVE or watch.expires_at is None or watch.expires_at <= now
            if _needs_renewal(watch, now, margin):
                try:
                    _renew(integration, watch, now)
                    summary["renewed"].append(calendar)
                except CredentialsRejected:
                    raise
                except CalendarError as exc:
                    renew_failures.append((calendar, exc))
                    continue
            due = (
                lapsed
                or watch.last_synced_at is None
                or now - watch.last_synced_at >= reconcile
                or watch.sync_requested_at is not None
            )
            if due:
                CalendarWatch.update(sync_requested_at=None).where(CalendarWatch.id == watch.id).execute()
                summary["events"] += [e["type"] for e in _sync(integration, CalendarWatch.get_by_id(watch.id), now)]
                summary["synced"].append(calendar)
        # Only a vendor call that worked says a broken integration works again; with nothing to
        # watch, one cheap call asks.
        answered = any(summary[k] for k in ("opened", "renewed", "stopped", "synced"))
        if not answered and not renew_failures and integration.status == Integration.FAILING:
            answered = vendor.probe(integration)
    except CredentialsRejected as exc:
        report_failure(integration, exc.code, str(exc))
        summary["status"] = "failing"
        return summary
    finally:
        Integration.update(
            next_sync_at=now + _setting("CALENDAR_MAINTENANCE_SECONDS", DEFAULT_MAINTENANCE_SECONDS),
            last_synced_at=now,
        ).where(Integration.id == integration.id).execute()
    if renew_failures:
        calendar, exc = renew_failures[0]
        lost = WatchLost(
            f"Docket could not renew its watch on the calendar of {calendar} ({exc}), so answers to invites "
            f"there may go unnoticed: {SETTINGS_HINT}",
            code=RENEW_FAILED,
        )
        report_failure(integration, lost.code, str(lost))
        summary["status"] = "failing"
        return summary
    if answered:
        report_success(integration)
    summary["status"] = "ok" if answered or integration.status != Integration.FAILING else "failing"
    return summary


# -- Queueing -----------------------------------------------------------------------------------


def request_sync(watch, queue=None):
    """A notification came for a watch: note it (so it survives a Redis outage) and queue a sync."""
    from redis import RedisError

    from ..queue import get_queue

    CalendarWatch.update(sync_requested_at=utcnow()).where(CalendarWatch.id == watch.id).execute()
    try:
        (queue or get_queue()).enqueue(SYNC_JOB, watch.id, job_timeout=600, result_ttl=600, failure_ttl=86400)
    except RedisError as exc:  # the sweeper queues it once Redis is back
        log.warning("could not queue a sync of calendar watch %s: %s", watch.id, exc)


def request_maintenance(integration, queue=None):
    """Queue the integration's maintenance now (a lifecycle notification asked for it); if Redis is
    down, the sweeper's next round does it."""
    from redis import RedisError

    from ..queue import get_queue

    interval = _setting("CALENDAR_MAINTENANCE_SECONDS", DEFAULT_MAINTENANCE_SECONDS)
    try:
        (queue or get_queue()).enqueue(
            MAINTAIN_JOB, integration.id, job_timeout=900, result_ttl=3600, failure_ttl=86400
        )
        Integration.update(next_sync_at=utcnow() + interval).where(Integration.id == integration.id).execute()
    except RedisError as exc:
        log.warning("could not queue maintenance of integration %s: %s", integration.id, exc)
        Integration.update(next_sync_at=utcnow()).where(Integration.id == integration.id).execute()


def enqueue_due_calendar_work(connection=None, now=None):
    """The sweeper's part: queue maintenance for calendar integrations whose turn came, and syncs
    for notifications that found Redis down. Returns (integration ids, watch ids)."""
    from ..queue import get_queue, redis_connection

    now = now or utcnow()
    due = [i for i in calendar_integrations() if i.next_sync_at is None or i.next_sync_at <= now]
    stale = list(
        CalendarWatch.select().where(
            CalendarWatch.sync_requested_at.is_null(False),
            CalendarWatch.sync_requested_at <= now - dt.timedelta(seconds=60),
        )
    )
    if not due and not stale:
        return [], []
    queue = get_queue(connection or redis_connection())
    interval = _setting("CALENDAR_MAINTENANCE_SECONDS", DEFAULT_MAINTENANCE_SECONDS)
    for integration in due:
        Integration.update(next_sync_at=now + interval).where(Integration.id == integration.id).execute()
        queue.enqueue(MAINTAIN_JOB, integration.id, job_timeout=900, result_ttl=3600, failure_ttl=86400)
    for watch in stale:
        queue.enqueue(SYNC_JOB, watch.id, job_timeout=600, result_ttl=600, failure_ttl=86400)
    return [i.id for i in due], [w.id for w in stale]
