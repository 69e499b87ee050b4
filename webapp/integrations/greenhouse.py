"""Greenhouse: webhook verification, the adapter from its documented actions to Docket events,
and the Harvest API client the sync and the adapter use to name hiring-team users.

Webhooks are signed `Signature: sha256 <hex>` (HMAC-SHA256 of the raw body)
and carry a `Greenhouse-Event-ID`, which is not signed: the body's digest names a delivery.
Greenhouse does not send the previous stage of a move, so envelopes leave `previous_stage` out
and the mirror fills it in.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from urllib.parse import urlencode

from flask import current_app, has_app_context

from ..db import database, is_postgres
from ..models import Application, Candidate, Integration, User
from . import schedules
from .base import (
    MirrorOnly,
    Vendor,
    body_hash,
    check_hex_signature,
    envelope,
    first_time,
    hand_over_candidate_tasks,
    person,
    record,
    register,
    update_candidate_coordinator,
)
from .http import header, next_link, urllib_transport

log = logging.getLogger(__name__)

SOURCE = "greenhouse"

# Actions without a `_on_<action>` handler are stored and marked ignored; the list of which and
# why is tests/integrations/test_greenhouse_webhooks.py's table of the documented fixtures.


def _name(candidate):
    return " ".join(p for p in (candidate.get("first_name"), candidate.get("last_name")) if p) or None


def _candidate_email(candidate):
    addresses = candidate.get("email_addresses") or []
    for kind in ("personal", "work", "other"):
        for address in addresses:
            if address.get("type") == kind and address.get("value"):
                return address["value"]
    return addresses[0]["value"] if addresses and addresses[0].get("value") else None


def _user_person(user):
    return person(user.get("email"), user.get("name")) if isinstance(user, dict) else None


def _candidate_record(candidate):
    if not isinstance(candidate, dict) or candidate.get("id") is None:
        return None
    return record(
        id=candidate["id"],
        name=_name(candidate),
        email=_candidate_email(candidate),
        coordinator=_user_person(candidate.get("coordinator")),
        url=candidate.get("url"),
    )


def _erased(row, candidate_id, reason, merged_into=None, applications=None):
    """A candidate.erased envelope, or None without a candidate id."""
    if candidate_id is None:
        return None
    return envelope(
        SOURCE,
        row.external_id,
        "candidate.erased",
        first_time(default=row.received_at),
        candidate=record(id=candidate_id),
        merged_into=record(id=merged_into) if merged_into is not None else None,
        applications=applications or None,
        reason=reason,
    )


def _job_of(application):
    jobs = application.get("jobs") or ([application["job"]] if isinstance(application.get("job"), dict) else [])
    return jobs[0] if jobs else None


@register
class Greenhouse(Vendor):
    """Greenhouse webhooks, normalised."""

    name = SOURCE

    OBJECTS = (
        "payload",
        "payload.application",
        "payload.application.current_stage",
        "payload.application.candidate",
        "payload.application.job",
        "payload.person",
        "payload.candidate",
        "payload.candidate.coordinator",
        "payload.job",
        "payload.job.hiring_team",
        "payload.job_interview_stage",
        "payload.interview",
    )

    def verify(self, headers, body, integration):
        scheme, _, digest = (headers.get("Signature") or "").strip().partition(" ")
        if scheme.lower() != "sha256":
            check_hex_signature(None, body, integration)
        check_hex_signature(digest, body, integration)

    def event_id(self, headers, body, payload):
        # The signed body names the delivery, not the unsigned Greenhouse-Event-ID header: a captured
        # body resent with a new (or no) event id is a redelivery, not a new event. Two real events
        # never share a body (each carries its own times).
        return body_hash(body)

    def prepare(self, event_row, integration):
        """Name, through Harvest, the hiring-team users a delivery mentions: the adapter then finds
        them in the cache (no Harvest call inside the worker's transaction)."""
        if integration is None or not integration.api_key:
            return
        body = event_row.payload if isinstance(event_row.payload, dict) else {}
        payload = body.get("payload") or {}
        if body.get("action") in ("job_created", "job_updated"):
            user_id = responsible_coordinator_id((payload.get("job") or {}).get("hiring_team"))
        elif body.get("action") == "merge_candidate":
            user_id = (payload.get("person") or {}).get("coordinator_user_id")
        else:
            return
        try:
            user_person(integration, user_id)
        except HarvestAuthError as exc:
            from .sync import report_refused_key

            report_refused_key(integration, exc)

    def normalise(self, event_row, integration):
        payload = event_row.payload or {}
        action = payload.get("action")
        handler = getattr(self, f"_on_{action}", None)
        if handler is None:
            return []
        return handler(event_row, payload.get("payload") or {}, integration)

    # -- applications -------------------------------------------------------------------------

    def _application_envelope(self, row, application, etype, **extra):
        job = _job_of(application) or {}
        return envelope(
            SOURCE,
            row.external_id,
            etype,
            first_time(application.get("last_activity_at"), default=row.received_at),
            application=record(id=application["id"], status=application.get("status"), url=application.get("url")),
            candidate=_candidate_record(application.get("candidate")),
            job=record(id=job["id"], name=job.get("name"), url=job.get("url")) if job.get("id") else None,
            **extra,
        )

    def _stage_change(self, row, payload, integration):
        application = payload.get("application") or {}
        stage = application.get("current_stage")
        if not stage or application.get("id") is None:
            return []
        return [
            self._application_envelope(
                row, application, "application.stage_changed", stage=record(id=stage["id"], name=stage.get("name"))
            )
        ]

    _on_candidate_stage_change = _stage_change
    _on_new_candidate_application = _stage_change
    # Back in the process: the application is active again, in its current stage.
    _on_unreject_candidate = _stage_change
    _on_unhire_candidate = _stage_change

    def _closed(reason):
        def handler(self, row, payload, integration):
            application = payload.get("application") or {}
            if application.get("id") is None:
                return []
            result = self._application_envelope(row, application, "application.closed", reason=reason)
            if reason == "rejected":
                result["occurred_at"] = first_time(application.get("rejected_at"), default=row.received_at)
            return [result]

        return handler

    _on_reject_candidate = _closed("rejected")
    _on_hire_candidate = _closed("hired")
    del _closed

    def _on_delete_application(self, row, payload, integration):
        application = payload.get("application") or {}
        if application.get("id") is None:
            return []
        return [
            envelope(
                SOURCE,
                row.external_id,
                "application.closed",
                first_time(default=row.received_at),
                application=record(id=application["id"]),
                candidate=record(id=application["candidate_id"]) if application.get("candidate_id") else None,
                job=record(id=application["job_id"]) if application.get("job_id") else None,
                reason="deleted",
            )
        ]

    def _on_delete_candidate(self, row, payload, integration):
        """Deleting a candidate deletes their applications: Docket erases the candidate (their tasks
        complete, for that reason) and closes each application."""
        candidate = payload.get("person") or {}
        applications = [str(i) for i in candidate.get("deleted_application_ids") or []]
        erased = [_erased(row, candidate.get("id"), "deleted in Greenhouse", applications=applications)]
        return [e for e in erased if e] + [
            envelope(
                SOURCE,
                f"{row.external_id}:{application_id}",
                "application.closed",
                first_time(default=row.received_at),
                application=record(id=application_id),
                candidate=record(id=candidate["id"]) if candidate.get("id") else None,
                reason="deleted",
            )
            for application_id in candidate.get("deleted_application_ids") or []
        ]

    def _on_candidate_anonymized(self, row, payload, integration):
        """Greenhouse replaced some of the candidate's fields: Docket erases all it holds of them
        (its copies of the payloads hold every field, not only those Greenhouse lists)."""
        erased = _erased(row, payload.get("candidate_id"), "anonymised in Greenhouse")
        return [erased] if erased else []

    # -- candidates: mirror only, and a new coordinator takes over the candidate's open tasks -----

    def _on_update_candidate(self, row, payload, integration):
        candidate = payload.get("candidate") or {}
        if candidate.get("id") is None:
            return []
        update_candidate_coordinator(
            row.account,
            candidate["id"],
            _user_person(candidate.get("coordinator")),
            row,
            name=_name(candidate),
            email=_candidate_email(candidate),
            url=candidate.get("url"),
        )
        return MirrorOnly()

    def _on_merge_candidate(self, row, payload, integration):
        merged = payload.get("person") or {}
        survivor_id = merged.get("new_candidate_id") or merged.get("id")
        if survivor_id is None:
            return []
        coordinator = user_person(integration, merged.get("coordinator_user_id"), fetch=False)
        survivor = update_candidate_coordinator(row.account, survivor_id, coordinator, row, name=_name(merged))
        if merged.get("id") is not None and str(merged["id"]) != str(survivor_id):
            # The merged-away candidate's applications now belong to the survivor.
            old = Candidate.get_or_none(Candidate.account == row.account, Candidate.external_id == str(merged["id"]))
            if old is not None:
                Application.update(candidate=survivor).where(Application.candidate == old).execute()
                if coordinator:
                    hand_over_candidate_tasks(
                        row.account, merged["id"], User.for_email(row.account, coordinator["email"]), row
                    )
            # The merged-away record is erased; its tasks follow the survivor (webapp/erasure.py).
            return [_erased(row, merged["id"], "merged into another candidate in Greenhouse", merged_into=survivor_id)]
        return MirrorOnly()

    # -- jobs, stages, interviews -----------------------------------------------------------------

    def _job_record(self, job, integration):
        return record(
            id=job["id"],
            name=job.get("name"),
            status=job.get("status"),
            coordinator=job_coordinator(integration, job.get("hiring_team"), fetch=False),
            url=job.get("url"),
        )

    def _on_job_created(self, row, payload, integration):
        job = payload.get("job") or {}
        if job.get("id") is None:
            return []
        occurred = first_time(job.get("created_at"), job.get("opened_at"), default=row.received_at)
        return [envelope(SOURCE, row.external_id, "job.created", occurred, job=self._job_record(job, integration))]

    def _on_job_updated(self, row, payload, integration):
        job = payload.get("job") or {}
        if job.get("id") is None:
            return []
        record_ = self._job_record(job, integration)
        if job.get("status") == "closed":
            occurred = first_time(job.get("closed_at"), default=row.received_at)
            return [envelope(SOURCE, row.external_id, "job.closed", occurred, job=record_)]
        from ..mirror import apply

        # Still open: keep the mirror's name and coordinator current; no Docket event.
        apply(
            row.account,
            envelope(SOURCE, row.external_id, "job.updated", first_time(default=row.received_at), job=record_),
        )
        return MirrorOnly()

    def _on_job_deleted(self, row, payload, integration):
        job = payload.get("job") or {}
        if job.get("id") is None:
            return []
        return [
            envelope(
                SOURCE,
                row.external_id,
                "job.closed",
                first_time(default=row.received_at),
                job=record(id=job["id"], name=job.get("name"), status="closed"),
            )
        ]

    def _on_job_interview_stage_deleted(self, row, payload, integration):
        stage = payload.get("job_interview_stage") or {}
        if stage.get("id") is None or stage.get("job_id") is None:
            return []
        return [
            envelope(
                SOURCE,
                row.external_id,
                "stage.deleted",
                first_time(stage.get("updated_at"), default=row.received_at),
                job=record(id=stage["job_id"]),
                stage=record(id=stage["id"], name=stage.get("name")),
            )
        ]

    def _on_interview_deleted(self, row, payload, integration):
        """A scheduled interview was cancelled or deleted (Greenhouse's `interview_deleted` names a
        scheduled interview, not a stage's interview): the schedule it was part of loses it, and a
        schedule left with none is cancelled."""
        scheduled_id = (payload.get("interview") or {}).get("id")
        if scheduled_id is None:
            return []
        si = schedules.scheduled_interview(row.account, SOURCE, scheduled_id)
        if si is None:
            log.info(
                "scheduled interview %s deleted in Greenhouse is unknown to the mirror; nothing to do", scheduled_id
            )
            return []
        schedule = si.schedule
        remaining = [i for i in schedules.described(schedule) if i["external_id"] != str(scheduled_id)]
        return schedules.schedule_event(
            row.account, SOURCE, row.external_id, first_time(default=row.received_at), schedule.external_id, remaining
        )


def scheduled_interview_mapping(item, when=None):
    """One of Harvest's scheduled interviews as schedule_changes describes an interview, with its
    ids; all-day interviews (a `date`, no `date_time`) run from midnight to midnight UTC."""

    def moment(value):
        value = value or {}
        return value.get("date_time") or (f"{value['date']}T00:00:00Z" if value.get("date") else None)

    return {
        "external_id": str(item["id"]),
        "interview_id": (item.get("interview") or {}).get("id"),
        "name": (item.get("interview") or {}).get("name") or "",
        "starts_at": moment(item.get("start")),
        "ends_at": moment(item.get("end")),
        "location": item.get("location") or None,
        "attendees": [
            {
                "email": person_["email"],
                "name": person_.get("name") or "",
                "kind": "interviewer",
                "response": person_.get("response_status") or None,
            }
            for person_ in item.get("interviewers") or []
            if person_.get("email")
        ],
    }


# -- Harvest ---------------------------------------------------------------------------------------


class HarvestError(Exception):
    """Harvest answered with an error."""

    def __init__(self, status, message):
        super().__init__(f"Harvest answered {status}: {message}" if status else f"Harvest did not answer: {message}")
        self.status = status
        self.message = message


class HarvestAuthError(HarvestError):
    """Harvest refused the API key (401) or its permissions (403)."""


class HarvestUnavailable(HarvestError):
    """Harvest did not answer (no connection, a time-out) or answered with a server error (5xx)."""


class HarvestClient:
    """The few Harvest API calls Docket makes, following `Link` pagination and honouring `Retry-After`."""

    BASE_URL = "https://harvest.greenhouse.io/v1"
    PER_PAGE = 100
    MAX_RETRIES = 5
    DEFAULT_RETRY_AFTER_SECONDS = 10

    def __init__(self, api_key, transport=None, sleep=time.sleep, base_url=None):
        self.api_key = api_key
        self.transport = transport or urllib_transport
        self.sleep = sleep
        self.base_url = (base_url or self.BASE_URL).rstrip("/")

    def _headers(self):
        token = base64.b64encode(f"{self.api_key}:".encode()).decode()
        return {"Authorization": f"Basic {token}", "Accept": "application/json"}

    def _request(self, url):
        for attempt in range(self.MAX_RETRIES + 1):
            try:
                status, headers, body = self.transport("GET", url, self._headers())
            except OSError as exc:  # urllib's URLError, time-outs, refused connections
                raise HarvestUnavailable(None, f"no answer ({exc})") from exc
            if status == 429 and attempt < self.MAX_RETRIES:
                wait = header(headers, "Retry-After")
                try:
                    seconds = float(wait)
                except (TypeError, ValueError):
                    seconds = self.DEFAULT_RETRY_AFTER_SECONDS
                log.info("Harvest rate limit: waiting %ss as Retry-After says", seconds)
                self.sleep(seconds)
                continue
            if status in (401, 403):
                raise HarvestAuthError(status, _message(body) or "the API key was refused")
            if status >= 500:
                raise HarvestUnavailable(status, _message(body) or "server error")
            if status >= 400:
                raise HarvestError(status, _message(body) or "request failed")
            return headers, json.loads(body or b"null")
        raise HarvestError(429, "still rate limited after retries")

    def url(self, path, **params):
        query = urlencode({k: v for k, v in params.items() if v is not None})
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def get(self, path, **params):
        return self._request(self.url(path, **params))[1]

    def paginate(self, path, **params):
        """Every item of a list endpoint, page after page as the `Link` header's rel="next" says."""
        url = self.url(path, per_page=self.PER_PAGE, **params)
        while url:
            headers, items = self._request(url)
            yield from items or []
            url = next_link(header(headers, "Link"))

    def jobs(self, **params):
        return self.paginate("/jobs", **params)

    def job_stages(self, job_id):
        return list(self.paginate(f"/jobs/{job_id}/stages"))

    def user(self, user_id):
        return self.get(f"/users/{user_id}")

    def scheduled_interviews(self, **params):
        """`GET /v1/scheduled_interviews` (e.g. `updated_after`), every page."""
        return self.paginate("/scheduled_interviews", **params)


def _message(body):
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return (body or b"")[:200].decode(errors="replace")
    return data.get("message") if isinstance(data, dict) else None


def harvest_client(integration, transport=None, sleep=None):
    """A Harvest client for the integration; tests put a fake transport in HARVEST_TRANSPORT."""
    if transport is None and has_app_context():
        transport = current_app.config.get("HARVEST_TRANSPORT")
    if sleep is None and has_app_context():
        sleep = current_app.config.get("HARVEST_SLEEP")
    return HarvestClient(integration.api_key, transport=transport, sleep=sleep or time.sleep)


def user_person(integration, user_id, client=None, fetch=True):
    """A Greenhouse user id as a person (e-mail and name), from the integration's cache of Harvest's
    users or, with `fetch`, from `GET /v1/users/{id}` (then cached).

    None when it cannot be known: no API key, a user without an e-mail, or Harvest not answering.
    A refused key (401/403) raises HarvestAuthError: the caller reports the broken integration.
    """
    if user_id is None or integration is None:
        return None
    cached = ((integration.state or {}).get("users") or {}).get(str(user_id))
    if cached:
        return person(cached.get("email"), cached.get("name"))
    if not fetch or not integration.api_key:
        return None
    try:
        user = (client or harvest_client(integration)).user(user_id)
    except HarvestAuthError:
        raise
    except HarvestError as exc:
        log.warning("could not look up Greenhouse user %s: %s", user_id, exc)
        return None
    email = user.get("primary_email_address") or next(iter(user.get("emails") or []), None)
    if not email:
        return None
    _remember_user(integration, user_id, {"email": email, "name": user.get("name") or ""})
    return person(email, user.get("name"))


def _remember_user(integration, user_id, user):
    """Add a user to the integration's cache, on a fresh copy of its state, so that whatever a
    sync saved meanwhile (its job listings, its health) is kept."""
    with database.atomic():
        query = Integration.select().where(Integration.id == integration.id)
        fresh = (query.for_update() if is_postgres() else query).first()
        if fresh is None:
            return
        state = dict(fresh.state or {})
        state["users"] = {**(state.get("users") or {}), str(user_id): user}
        Integration.update(state=state).where(Integration.id == integration.id).execute()
    integration.state = {**(integration.state or {}), "users": state["users"]}


def responsible_coordinator_id(hiring_team):
    """The hiring team's responsible coordinator (else its first active one), as a user id."""
    coordinators = (hiring_team or {}).get("coordinators") or []
    coordinators = [c for c in coordinators if c.get("active", True)]
    chosen = next((c for c in coordinators if c.get("responsible")), coordinators[0] if coordinators else None)
    if chosen is None:
        return None
    return chosen.get("user_id", chosen.get("id"))


def job_coordinator(integration, hiring_team, client=None, fetch=True):
    return user_person(integration, responsible_coordinator_id(hiring_team), client, fetch)
