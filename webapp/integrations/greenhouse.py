"""Greenhouse: webhook verification and the adapter from its documented actions to Docket events;
hiring-team users the webhooks give only ids for are named through Harvest (harvest.py).

Webhooks are signed `Signature: sha256 <hex>` (HMAC-SHA256 of the raw body)
and carry a `Greenhouse-Event-ID`, which is not signed: the body's digest names a delivery.
Greenhouse does not send the previous stage of a move, so envelopes leave `previous_stage` out
and the mirror fills it in.
"""

from __future__ import annotations

from ..envelope import envelope, record
from .base import Vendor, body_hash, check_sha256_header, first_time, person, register
from .harvest import HarvestAuthError, cached_person, responsible_coordinator_id, user_person
from .health import report_refused_key

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
        check_sha256_header(headers.get("Signature"), " ", body, integration)

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
            report_refused_key(integration, exc)

    def lookups(self, event_row, integration):
        """The integration's cache of Harvest's users, which `prepare` fills."""
        return {"users": dict((integration.state or {}).get("users") or {})} if integration else {}

    def normalise(self, event_row, lookups):
        payload = event_row.payload or {}
        action = payload.get("action")
        handler = getattr(self, f"_on_{action}", None)
        if handler is None:
            return []
        return handler(event_row, payload.get("payload") or {}, (lookups or {}).get("users") or {})

    # -- applications -------------------------------------------------------------------------

    def _application_envelope(self, row, application, etype, **extra):
        job = _job_of(application) or {}
        return self.envelope(
            row,
            etype,
            first_time(application.get("last_activity_at"), default=row.received_at),
            application=record(id=application["id"], status=application.get("status"), url=application.get("url")),
            candidate=_candidate_record(application.get("candidate")),
            job=record(id=job["id"], name=job.get("name"), url=job.get("url")) if job.get("id") else None,
            **extra,
        )

    def _stage_change(self, row, payload, users):
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
        def handler(self, row, payload, users):
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

    def _on_delete_application(self, row, payload, users):
        application = payload.get("application") or {}
        if application.get("id") is None:
            return []
        return [
            self.envelope(
                row,
                "application.closed",
                application=record(id=application["id"]),
                candidate=record(id=application["candidate_id"]) if application.get("candidate_id") else None,
                job=record(id=application["job_id"]) if application.get("job_id") else None,
                reason="deleted",
            )
        ]

    def _on_delete_candidate(self, row, payload, users):
        """Deleting a candidate deletes their applications: Docket erases the candidate (their tasks
        complete, for that reason) and closes each application."""
        candidate = payload.get("person") or {}
        applications = [str(i) for i in candidate.get("deleted_application_ids") or []]
        erased = [self.erased(row, candidate.get("id"), "deleted in Greenhouse", applications=applications)]
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

    def _on_candidate_anonymized(self, row, payload, users):
        """Greenhouse replaced some of the candidate's fields: Docket erases all it holds of them
        (its copies of the payloads hold every field, not only those Greenhouse lists)."""
        erased = self.erased(row, payload.get("candidate_id"), "anonymised in Greenhouse")
        return [erased] if erased else []

    # -- candidates: mirror only; the pipeline hands tasks over when the coordinator changes -----

    def _on_update_candidate(self, row, payload, users):
        candidate = payload.get("candidate") or {}
        if candidate.get("id") is None:
            return []
        updated = record(
            id=candidate["id"],
            name=_name(candidate),
            email=_candidate_email(candidate),
            url=candidate.get("url"),
            coordinator=_user_person(candidate.get("coordinator")),
        )
        return [
            envelope(
                SOURCE, row.external_id, "candidate.updated", first_time(default=row.received_at), candidate=updated
            )
        ]

    def _on_merge_candidate(self, row, payload, users):
        merged = payload.get("person") or {}
        survivor_id = merged.get("new_candidate_id") or merged.get("id")
        if survivor_id is None:
            return []
        occurred = first_time(default=row.received_at)
        survivor = record(
            id=survivor_id, name=_name(merged), coordinator=cached_person(users, merged.get("coordinator_user_id"))
        )
        if merged.get("id") is None or str(merged["id"]) == str(survivor_id):
            return [self.envelope(row, "candidate.updated", occurred, candidate=survivor)]
        # The merged-away candidate's applications and tasks go to the survivor, then the
        # merged-away record is erased (webapp/erasure.py).
        return [
            self.envelope(
                row,
                "candidate.merged",
                occurred,
                candidate=record(id=merged["id"]),
                merged_into=survivor,
            ),
            self.erased(row, merged["id"], "merged into another candidate in Greenhouse", merged_into=survivor_id),
        ]

    # -- jobs, stages, interviews -----------------------------------------------------------------

    def _job_record(self, job, users):
        return record(
            id=job["id"],
            name=job.get("name"),
            status=job.get("status"),
            coordinator=cached_person(users, responsible_coordinator_id(job.get("hiring_team"))),
            url=job.get("url"),
        )

    def _on_job_created(self, row, payload, users):
        job = payload.get("job") or {}
        if job.get("id") is None:
            return []
        occurred = first_time(job.get("created_at"), job.get("opened_at"), default=row.received_at)
        return [self.envelope(row, "job.created", occurred, job=self._job_record(job, users))]

    def _on_job_updated(self, row, payload, users):
        job = payload.get("job") or {}
        if job.get("id") is None:
            return []
        record_ = self._job_record(job, users)
        if job.get("status") == "closed":
            occurred = first_time(job.get("closed_at"), default=row.received_at)
            return [self.envelope(row, "job.closed", occurred, job=record_)]
        # Still open: the mirror's name and coordinator are kept current; no Docket event.
        return [self.envelope(row, "job.updated", job=record_)]

    def _on_job_deleted(self, row, payload, users):
        job = payload.get("job") or {}
        if job.get("id") is None:
            return []
        return [
            self.envelope(
                row,
                "job.closed",
                job=record(id=job["id"], name=job.get("name"), status="closed"),
            )
        ]

    def _on_job_interview_stage_deleted(self, row, payload, users):
        stage = payload.get("job_interview_stage") or {}
        if stage.get("id") is None or stage.get("job_id") is None:
            return []
        return [
            self.envelope(
                row,
                "stage.deleted",
                first_time(stage.get("updated_at"), default=row.received_at),
                job=record(id=stage["job_id"]),
                stage=record(id=stage["id"], name=stage.get("name")),
            )
        ]

    def _on_interview_deleted(self, row, payload, users):
        """A scheduled interview was cancelled or deleted (Greenhouse's `interview_deleted` names a
        scheduled interview, not a stage's interview): the pipeline takes it out of the schedule it
        was part of, and cancels a schedule left with none (webapp/ats_schedules.py)."""
        scheduled_id = (payload.get("interview") or {}).get("id")
        if scheduled_id is None:
            return []
        return [
            self.envelope(
                row,
                "schedule.interview_removed",
                scheduled_interview=record(id=scheduled_id),
            )
        ]
