"""Lever: webhook verification and the adapter from its documented events to Docket events.

Lever puts the signature in the body: `signature` is the hex HMAC-SHA256 of
`token + triggeredAt` keyed with the webhook's signature token (one per event
type, so an integration may hold several). The body itself is not signed.
Payloads carry ids only; names come from Docket's mirror where it has them.
Lever's opportunity is Docket's application, its contact the candidate.
"""

from __future__ import annotations

import json

from ..models import Application
from .base import MirrorOnly, SignatureError, Vendor, check_hex_signature, envelope, first_time, record, register

SOURCE = "lever"


def _mirror_application(account, opportunity_id):
    return Application.get_or_none(Application.account == account, Application.external_id == str(opportunity_id))


def _known(model_row):
    return record(id=model_row.external_id, name=model_row.name or None) if model_row is not None else None


@register
class Lever(Vendor):
    """Lever webhooks, normalised."""

    name = SOURCE

    def verify(self, headers, body, integration):
        try:
            payload = json.loads(body)
        except ValueError:
            raise SignatureError("no signature (the body is not JSON)") from None
        if not isinstance(payload, dict) or payload.get("token") is None or payload.get("triggeredAt") is None:
            raise SignatureError("no signature")
        message = f"{payload['token']}{payload['triggeredAt']}".encode()
        check_hex_signature(payload.get("signature"), message, integration)

    def event_id(self, headers, body, payload):
        # The signed pair names the delivery: Lever signs no more than token and triggeredAt, so a
        # captured signature replayed with other data is the same delivery again, not a new event.
        if payload.get("id"):
            return str(payload["id"])
        return f"{payload['token']}:{payload['triggeredAt']}"

    def action(self, payload):
        return str(payload.get("event", "")) if isinstance(payload, dict) else ""

    def normalise(self, event_row, integration):
        payload = event_row.payload or {}
        data = payload.get("data") or {}
        handler = getattr(self, f"_on_{payload.get('event')}", None)
        if handler is None or not data.get("opportunityId"):
            return []
        occurred = first_time(payload.get("triggeredAt"), default=event_row.received_at)
        return handler(event_row, data, occurred)

    def _records(self, row, data):
        """Application, candidate and job: ids from Lever, names and job from the mirror."""
        application = _mirror_application(row.account, data["opportunityId"])
        candidate_id = data.get("contactId") or data.get("candidateId")
        records = {
            "application": record(id=data["opportunityId"]),
            "candidate": record(id=candidate_id) if candidate_id else None,
        }
        if application is not None:
            if application.candidate is not None:
                records["candidate"] = _known(application.candidate)
            records["job"] = _known(application.job)
        return records, application

    def _on_candidateStageChange(self, row, data, occurred):
        if not data.get("toStageId"):
            return []
        records, _ = self._records(row, data)
        previous = record(id=data["fromStageId"]) if data.get("fromStageId") else None
        stage = record(id=data["toStageId"])
        return [
            envelope(
                SOURCE,
                row.external_id,
                "application.stage_changed",
                occurred,
                stage=stage,
                previous_stage=previous,
                **records,
            )
        ]

    def _on_applicationCreated(self, row, data, occurred):
        """A new opportunity: into the mirror, with its posting as the job when Lever names one."""
        from ..mirror import apply

        records, _ = self._records(row, data)
        if data.get("postingId") and "job" not in records:
            records["job"] = record(id=data["postingId"])
        apply(row.account, envelope(SOURCE, row.external_id, "application.created", occurred, **records))
        return MirrorOnly()

    def _on_candidateHired(self, row, data, occurred):
        records, _ = self._records(row, data)
        return [envelope(SOURCE, row.external_id, "application.closed", occurred, reason="hired", **records)]

    def _on_candidateArchiveChange(self, row, data, occurred):
        archived = data.get("toArchived")
        if not archived:
            return []  # unarchived: Lever's next stage change brings it back
        records, _ = self._records(row, data)
        when = first_time(archived.get("archivedAt"), default=row.received_at)
        return [envelope(SOURCE, row.external_id, "application.closed", when, reason="archived", **records)]

    def _interview(etype):
        """Lever interviews are scheduled on an opportunity: a schedule made in the ATS, for its current stage."""

        def handler(self, row, data, occurred):
            records, application = self._records(row, data)
            schedule_id = data.get("panelId") or data.get("interviewId")
            if application is None or application.stage is None or not schedule_id:
                return []  # unknown application or stage: nothing to resolve or to reschedule
            stage = _known(application.stage)
            return [
                envelope(
                    SOURCE, row.external_id, etype, occurred, schedule=record(id=schedule_id), stage=stage, **records
                )
            ]

        return handler

    _on_interviewCreated = _interview("schedule.created")
    _on_interviewUpdated = _interview("schedule.updated")
    _on_interviewDeleted = _interview("schedule.cancelled")
    del _interview

    def _on_candidateDeleted(self, row, data, occurred):
        """Deleting a candidate deletes the person and their opportunities: Docket erases the
        candidate (their tasks complete, for that reason) and closes the opportunity."""
        records, _ = self._records(row, data)
        if not records["candidate"]:
            return []
        erased = envelope(
            SOURCE,
            row.external_id,
            "candidate.erased",
            occurred,
            candidate=record(id=records["candidate"]["id"]),
            applications=[str(data["opportunityId"])],
            reason="deleted in Lever",
        )
        closed = envelope(
            SOURCE, f"{row.external_id}:closed", "application.closed", occurred, reason="deleted", **records
        )
        return [erased, closed]
