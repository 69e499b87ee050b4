"""The periodic ATS sync: what webhooks do not say. For Greenhouse, Harvest's job stages are listed
and diffed against the last listing, raising stage.created / stage.deleted / interview.created /
interview.deleted, and the jobs' coordinators are named; the scheduled interviews updated since the
last sync are listed too, raising schedule.created / schedule.updated for what coordinators
scheduled in Greenhouse; a refused API key raises integration.failed (once per outage) and the next
good sync integration.restored (integrations/health.py).

A job seen for the first time is a baseline: its stages go into the mirror without events, so
connecting an ATS does not open a task for every stage of every job.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app, has_app_context

from .. import ats_schedules, mirror
from ..db import database
from ..envelope import envelope, record
from ..models import Application, Integration, Interview, Schedule, to_utc, utcnow
from ..queue import redis_connection, request_drain
from .base import first_time, iso
from .harvest import (
    HarvestAuthError,
    HarvestError,
    HarvestUnavailable,
    harvest_client,
    job_coordinator,
    scheduled_interview_mapping,
    user_person,
)
from .health import accept_events, health_event, mark_failing, report_refused_key

log = logging.getLogger(__name__)

DEFAULT_SYNC_INTERVAL_SECONDS = 300
SYNC_JOB = "worker.jobs.sync_integration"


def sync_interval():
    seconds = current_app.config.get("SYNC_INTERVAL_SECONDS") if has_app_context() else None
    return dt.timedelta(seconds=float(seconds or DEFAULT_SYNC_INTERVAL_SECONDS))


def run_sync(integration_id, client=None):
    """Sync one integration by id; returns a summary (events raised), or None when it has nothing to sync."""
    integration = Integration.get_or_none(Integration.id == integration_id)
    if integration is None or integration.provider not in SYNCS or not integration.api_key:
        return None
    return SYNCS[integration.provider](integration, client=client)


def syncable():
    """Integrations with an API to poll."""
    return Integration.select().where(Integration.provider.in_(list(SYNCS)), Integration.api_key.is_null(False))


def enqueue_due_syncs(connection=None, now=None):
    """Queue a sync for every integration whose turn has come; returns their ids."""
    from ..queue import get_queue

    now = now or utcnow()
    due = [i for i in syncable() if i.next_sync_at is None or i.next_sync_at <= now]
    if not due:
        return []
    queue = get_queue(connection or redis_connection())
    for integration in due:
        Integration.update(next_sync_at=now + sync_interval()).where(Integration.id == integration.id).execute()
        queue.enqueue(SYNC_JOB, integration.id, job_timeout=900, result_ttl=3600, failure_ttl=86400)
    return [i.id for i in due]


def enqueue_sync(integration):
    """Queue a sync now (the admin page's and CLI's "sync now")."""
    from ..queue import get_queue

    return get_queue().enqueue(SYNC_JOB, integration.id, job_timeout=900, result_ttl=3600, failure_ttl=86400)


# -- Greenhouse ---------------------------------------------------------------------------------


def _event_id(integration, *parts):
    return ":".join(["greenhouse-sync", str(integration.id), *map(str, parts)])


def _listing(stages):
    """Harvest's stages of a job as {stage id: {name, interviews: {id: {name, minutes}}}}."""
    return {
        str(stage["id"]): {
            "name": stage.get("name") or "",
            "interviews": {
                str(i["id"]): {"name": i.get("name") or "", "minutes": i.get("estimated_minutes")}
                for i in stage.get("interviews") or []
            },
        }
        for stage in stages
    }


def fetch_greenhouse(integration, client):
    """Everything the sync needs from Harvest: open jobs, each with its coordinator and stages."""
    jobs = []
    for job in client.jobs(status="open"):
        if job.get("status", "open") != "open":
            continue
        jobs.append(
            {
                "job": record(
                    id=job["id"],
                    name=job.get("name"),
                    status="open",
                    coordinator=job_coordinator(integration, job.get("hiring_team"), client),
                ),
                "stages": _listing(client.job_stages(job["id"])),
            }
        )
    return jobs


def fetch_scheduled_interviews(integration, client, now):
    """Harvest's scheduled interviews updated since the last sync (the first sync: those still to
    come), and their organizers as people where Harvest names them."""
    cursor = (integration.state or {}).get("scheduled_interviews_after")
    params = {"updated_after": cursor} if cursor else {"ends_after": now}
    items = [item for item in client.scheduled_interviews(**params) if item.get("id") and item.get("application_id")]
    organizers = {}
    for item in items:
        organizer_id = (item.get("organizer") or {}).get("id")
        if organizer_id is not None and organizer_id not in organizers:
            organizers[organizer_id] = user_person(integration, organizer_id, client)
    return items, organizers


def _stage_of(account, item):
    """The stage a scheduled interview is for: its interview's stage in the mirror, else the stage
    the candidate is in now (None when the mirror knows neither)."""
    interview = mirror.find(Interview, account, (item.get("interview") or {}).get("id") or "")
    if interview is not None and interview.stage_id:
        return interview.stage.external_id
    application = mirror.find(Application, account, item["application_id"])
    if application is not None and application.stage_id:
        return application.stage.external_id
    return None


def _schedule_events(integration, items, organizers, now):
    """Group Harvest's scheduled interviews into Docket's schedules (one per application and stage)
    and raise what changed against the mirror. Harvest lists only what changed since the cursor:
    a schedule's other interviews stay as the mirror has them."""
    account = integration.account
    groups = {}  # schedule id -> {"application", "stage", "items": [...]}
    for item in sorted(items, key=lambda i: (str(i.get("created_at") or ""), i["id"])):
        known = ats_schedules.scheduled_interview(account, "greenhouse", item["id"])
        if known is not None:
            schedule_id = known.schedule.external_id
            stage_id = known.schedule.stage.external_id if known.schedule.stage_id else None
        else:
            stage_id = _stage_of(account, item)
            live = ats_schedules.live_schedule(account, "greenhouse", item["application_id"], stage_id)
            same = next(
                (
                    k
                    for k, g in groups.items()
                    if g["application"] == str(item["application_id"]) and g["stage"] == stage_id
                ),
                None,
            )
            schedule_id = live.external_id if live is not None else same or f"greenhouse-{item['id']}"
        group = groups.setdefault(
            schedule_id, {"application": str(item["application_id"]), "stage": stage_id, "items": []}
        )
        group["items"].append(item)
    events = []
    for schedule_id, group in groups.items():
        existing = mirror.find(Schedule, account, schedule_id)
        current = ats_schedules.described(existing) if existing is not None and existing.status != "cancelled" else []
        listed = {str(i["id"]): scheduled_interview_mapping(i) for i in group["items"]}
        interviews = [listed.pop(i["external_id"], i) for i in current] + list(listed.values())
        first = group["items"][0]
        organizer = organizers.get((first.get("organizer") or {}).get("id"))
        occurred = first_time(
            *sorted((str(i.get("updated_at") or "") for i in group["items"]), reverse=True), default=now
        )
        raised, _ = ats_schedules.schedule_event(
            account,
            "greenhouse",
            "",  # named below, from what the schedule is now: a re-sync repeats the id
            occurred,
            schedule_id,
            interviews,
            application_id=group["application"],
            stage_id=group["stage"],
            organizer=organizer,
        )
        for event in raised:
            event["id"] = _event_id(integration, event["type"], schedule_id, ats_schedules.fingerprint(interviews))
            events.append(event)
    return events


def _cursor(items, previous):
    """The next sync lists what was updated at or after the latest update this one saw."""
    times = [to_utc(i["updated_at"]) for i in items if i.get("updated_at")]
    return iso(max(times)) if times else previous


def _diff(integration, job, before, after, now):
    """The Docket events between two listings of a job's stages."""
    events = []

    def stage_rec(sid, listing):
        return record(id=sid, name=listing[sid]["name"] or None)

    def interview_rec(iid, interviews):
        return record(id=iid, name=interviews[iid]["name"] or None, duration_minutes=interviews[iid]["minutes"])

    def add(etype, *key, **data):
        events.append(envelope("docket", _event_id(integration, etype, *key), etype, now, job=job, **data))

    def add_stage(change, sid, listing):
        """A stage created or deleted, and each of its interviews with it."""
        add(f"stage.{change}", job["id"], sid, stage=stage_rec(sid, listing))
        for iid in listing[sid]["interviews"]:
            interview = interview_rec(iid, listing[sid]["interviews"])
            add(f"interview.{change}", sid, iid, stage=stage_rec(sid, listing), interview=interview)

    for sid in after.keys() - before.keys():
        add_stage("created", sid, after)
    for sid in before.keys() - after.keys():
        add_stage("deleted", sid, before)  # its interviews went with it: their New Interview tasks are moot too
    for sid in before.keys() & after.keys():
        old, new = before[sid]["interviews"], after[sid]["interviews"]
        for iid in new.keys() - old.keys():
            add("interview.created", sid, iid, stage=stage_rec(sid, after), interview=interview_rec(iid, new))
        for iid in old.keys() - new.keys():
            add("interview.deleted", sid, iid, stage=stage_rec(sid, after), interview=interview_rec(iid, old))
    return events


def _baseline(account, job, listing, now):
    """Put a job's stages and interviews into the mirror without raising events."""
    for sid, stage in listing.items():
        stage_rec = record(id=sid, name=stage["name"] or None)
        mirror.apply(account, envelope("docket", "baseline", "stage.synced", now, job=job, stage=stage_rec))
        for iid, interview in stage["interviews"].items():
            interview_rec = record(id=iid, name=interview["name"] or None, duration_minutes=interview["minutes"])
            mirror.apply(
                account,
                envelope(
                    "docket", "baseline", "interview.synced", now, job=job, stage=stage_rec, interview=interview_rec
                ),
            )


# A sync that gets no answer may be a passing blip; this many in a row (15 minutes at the
# default interval) means Greenhouse has stopped answering.
UNANSWERED_SYNCS_BEFORE_FAILED = 3


def sync_greenhouse(integration, client=None):
    """List Harvest's open jobs and their stages, update the mirror, and raise what changed."""
    client = client or harvest_client(integration)
    now = iso(utcnow())
    try:
        jobs = fetch_greenhouse(integration, client)
        scheduled, organizers = fetch_scheduled_interviews(integration, client, now)
    except HarvestAuthError as exc:
        return report_refused_key(integration, exc, now)
    except HarvestUnavailable as exc:
        integration = Integration.get_by_id(integration.id)
        unanswered = (integration.state or {}).get("unanswered", 0) + 1
        integration.state = dict(integration.state or {}, unanswered=unanswered)
        integration.last_error = str(exc)
        integration.save()
        if unanswered < UNANSWERED_SYNCS_BEFORE_FAILED:
            raise  # the job fails and the next sync tries again
        message = (
            f"Greenhouse's Harvest API has not answered {unanswered} syncs in a row ({exc.message}): "
            "new stages and interviews may be missing"
        )
        return mark_failing(integration, now, "unavailable", message)
    except HarvestError as exc:
        Integration.update(last_error=str(exc)).where(Integration.id == integration.id).execute()
        raise

    integration = Integration.get_by_id(integration.id)
    state = dict(integration.state or {})
    listed = state.get("jobs", {})
    events = []
    with database.atomic():
        for item in jobs:
            job, listing = item["job"], item["stages"]
            mirror.apply(integration.account, envelope("docket", "sync", "job.synced", now, job=job))
            before = listed.get(job["id"])
            if before is None:
                _baseline(integration.account, job, listing, now)
            else:
                events.extend(_diff(integration, job, before["stages"], listing, now))
        state["jobs"] = {item["job"]["id"]: {"stages": item["stages"]} for item in jobs}
        # After the jobs: a scheduled interview's stage comes from the stages just mirrored.
        events.extend(_schedule_events(integration, scheduled, organizers, now))
        state["scheduled_interviews_after"] = _cursor(scheduled, state.get("scheduled_interviews_after"))
        state["unanswered"] = 0
        if integration.status == Integration.FAILING:
            events.append(health_event(integration, "integration.restored", state.get("outages", 0), now))
        integration.status = Integration.OK
        integration.last_error = None
        integration.last_synced_at = utcnow()
        integration.state = state
        integration.save()
        accept_events(integration, events)
    request_drain(force=True)
    return {"status": "ok", "jobs": len(jobs), "events": [e["type"] for e in events]}


SYNCS = {"greenhouse": sync_greenhouse}
