"""Ashby: webhook verification and the adapter from its documented webhook payloads to Docket events.

Ashby signs the raw body: `Ashby-Signature: sha256=<hex>` (HMAC-SHA256 with the
webhook's secret token). Every payload is `{"webhookActionId", "action", "data"}`;
`webhookActionId` is the same across retries, so it names the delivery.

Schedules made in Ashby come as `interviewScheduleCreate` and `interviewScheduleUpdate` (Ashby has
no webhook of its own for a cancellation: the update says `status: "Cancelled"`); each carries the
whole interview schedule, which the pipeline compares with the mirror (webapp/ats_schedules.py).
"""

from __future__ import annotations

from ..envelope import record
from .base import Vendor, body_hash, check_sha256_header, first_time, person, register

SOURCE = "ashby"
COORDINATOR_ROLES = ("coordinator", "recruiting coordinator")
CLOSED_JOB_STATUSES = ("Closed", "Archived")
# An interview schedule in these states has its interviews booked (or held); any other state
# (NeedsScheduling, WaitingOnCandidateBooking, Cancelled, OnHold…) has none a candidate will attend.
BOOKED_SCHEDULE_STATUSES = ("Scheduled", "WaitingOnFeedback", "Complete")


def _coordinator(hiring_team):
    """The hiring team's coordinator as a person, or None."""
    for member in hiring_team or []:
        if str(member.get("role", "")).lower() in COORDINATOR_ROLES and member.get("email"):
            name = " ".join(p for p in (member.get("firstName"), member.get("lastName")) if p)
            return person(member["email"], name)
    return None


def _application_records(application):
    candidate = application.get("candidate") or {}
    job = application.get("job") or {}
    stage = application.get("currentInterviewStage") or {}
    return {
        "application": record(id=application["id"], status=(application.get("status") or "").lower() or None),
        "candidate": record(
            id=candidate.get("id"),
            name=candidate.get("name"),
            email=(candidate.get("primaryEmailAddress") or {}).get("value"),
            coordinator=_coordinator(application.get("hiringTeam")),
        )
        if candidate.get("id")
        else None,
        "job": record(id=job["id"], name=job.get("title")) if job.get("id") else None,
        "stage": record(id=stage["id"], name=stage.get("title")) if stage.get("id") else None,
    }


def _user_person(user):
    if not isinstance(user, dict) or not user.get("email"):
        return None
    return person(user["email"], " ".join(p for p in (user.get("firstName"), user.get("lastName")) if p))


def _interview(event):
    """One of an interview schedule's `interviewEvents` as schedule_changes describes an interview."""
    interviewers = [_user_person(i) for i in event.get("interviewers") or []]
    return {
        "external_id": str(event["id"]),
        "interview_id": None,  # Ashby's interviews are not stage interviews Docket mirrors
        "name": (event.get("interview") or {}).get("title") or "",
        "starts_at": event["startTime"],
        "ends_at": event["endTime"],
        "location": event.get("location") or None,
        "attendees": [dict(p, kind="interviewer") for p in interviewers if p],
    }


def _job_record(job):
    status = job.get("status")
    return record(
        id=job["id"],
        name=job.get("title"),
        status="closed" if status in CLOSED_JOB_STATUSES else (status or "").lower() or None,
        coordinator=_coordinator(job.get("hiringTeam")),
    )


@register
class Ashby(Vendor):
    """Ashby webhooks, normalised."""

    name = SOURCE

    OBJECTS = (
        "data",
        "data.application",
        "data.application.candidate",
        "data.application.job",
        "data.application.currentInterviewStage",
        "data.application.candidate.primaryEmailAddress",
        "data.interviewSchedule",
        "data.job",
        "data.candidate",
        "data.mergedCandidate",
        "data.deletedCandidate",
    )

    def verify(self, headers, body, integration):
        check_sha256_header(headers.get("Ashby-Signature"), "=", body, integration)

    def event_id(self, headers, body, payload):
        return str(payload.get("webhookActionId") or body_hash(body))

    def normalise(self, event_row, lookups):
        payload = event_row.payload or {}
        handler = getattr(self, f"_on_{payload.get('action')}", None)
        return handler(event_row, payload.get("data") or {}) if handler else []

    def _application_event(self, row, application, etype, **extra):
        occurred = first_time(application.get("updatedAt"), default=row.received_at)
        records = _application_records(application)
        if etype == "application.closed":
            records.pop("stage")
        return self.envelope(row, etype, occurred, **records, **extra)

    def _stage_change(self, row, data):
        application = data.get("application") or {}
        if not application.get("id") or not (application.get("currentInterviewStage") or {}).get("id"):
            return []
        if application.get("status") in ("Hired", "Archived"):
            return []  # the stage of a closed application: candidateHire / applicationUpdate close it
        return [self._application_event(row, application, "application.stage_changed")]

    _on_candidateStageChange = _stage_change
    _on_applicationSubmit = _stage_change

    def _on_applicationUpdate(self, row, data):
        """Closing is said here (archived) or by candidateHire; other updates come with their own webhooks."""
        application = data.get("application") or {}
        reason = {"Archived": "archived", "Hired": "hired"}.get(application.get("status"))
        if not application.get("id") or reason is None:
            return []
        return [self._application_event(row, application, "application.closed", reason=reason)]

    def _on_candidateHire(self, row, data):
        application = data.get("application") or {}
        if not application.get("id"):
            return []
        return [self._application_event(row, application, "application.closed", reason="hired")]

    def _interview_schedule(self, row, data):
        """A schedule made in Ashby, first seen, edited or cancelled: reported as it is now."""
        schedule = data.get("interviewSchedule") or {}
        if not schedule.get("id") or not schedule.get("applicationId"):
            return []
        booked = schedule.get("status") in BOOKED_SCHEDULE_STATUSES
        interviews = [_interview(e) for e in schedule.get("interviewEvents") or [] if e.get("startTime")]
        scheduled_by = _user_person(schedule.get("scheduledBy"))
        return [
            self.envelope(
                row,
                "schedule.reported",
                first_time(schedule.get("updatedAt"), schedule.get("createdAt"), default=row.received_at),
                schedule=record(id=schedule["id"], organizer=scheduled_by),
                interviews=interviews,
                application=record(id=schedule["applicationId"]),
                stage=record(id=schedule["interviewStageId"]) if schedule.get("interviewStageId") else None,
                cancelled=not booked,
                actor=scheduled_by,
                candidate=record(id=schedule["candidateId"]) if schedule.get("candidateId") else None,
            )
        ]

    _on_interviewScheduleCreate = _interview_schedule
    _on_interviewScheduleUpdate = _interview_schedule

    def _on_jobCreate(self, row, data):
        job = data.get("job") or {}
        if not job.get("id"):
            return []
        occurred = first_time(job.get("createdAt"), job.get("updatedAt"), default=row.received_at)
        return [self.envelope(row, "job.created", occurred, job=_job_record(job))]

    def _on_jobUpdate(self, row, data):
        job = data.get("job") or {}
        if not job.get("id"):
            return []
        occurred = first_time(job.get("closedAt"), job.get("updatedAt"), default=row.received_at)
        if job.get("status") in CLOSED_JOB_STATUSES:
            return [self.envelope(row, "job.closed", occurred, job=_job_record(job))]
        # Still open: the mirror's title and coordinator are kept current; no Docket event.
        return [self.envelope(row, "job.updated", occurred, job=_job_record(job))]

    def _on_candidateDelete(self, row, data):
        """A candidate deleted in Ashby: Docket erases them, and their tasks complete for that reason."""
        erased = self.erased(row, (data.get("candidate") or {}).get("id"), "deleted in Ashby")
        return [erased] if erased else []

    def _on_candidateMerge(self, row, data):
        """Two candidates merged in Ashby: the deleted one is erased, its tasks follow the merged one."""
        survivor = (data.get("mergedCandidate") or {}).get("id")
        if not survivor:
            return []
        deleted = (data.get("deletedCandidate") or {}).get("id")
        erased = self.erased(row, deleted, "merged into another candidate in Ashby", merged_into=survivor)
        return [erased] if erased else []
