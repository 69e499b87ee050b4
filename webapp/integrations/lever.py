"""Lever: webhook verification and the adapter from its documented events to Docket events.

Lever puts the signature in the body: `signature` is the hex HMAC-SHA256 of
`token + triggeredAt` keyed with the webhook's signature token (one per event
type, so an integration may hold several). The body itself is not signed.
Payloads carry ids only. With an API key, `prepare` asks Lever's API for the opportunity (the
candidate's name and e-mail, its owner: the candidate's coordinator), its stage and its posting
(Docket's job) before the worker's transaction and keeps the answers on the inbox row's
`lookups`; without one, or while Lever does not answer, names come from Docket's mirror.
Lever's opportunity is Docket's application, its contact the candidate.
"""

from __future__ import annotations

import datetime as dt
import logging

from ..envelope import envelope, record
from ..inbound import read_object
from ..models import Event
from .base import SignatureError, Vendor, check_hex_signature, first_time, register
from .health import report_refused_key, report_working
from .lever_api import (
    LeverAuthError,
    LeverError,
    lever_client,
    opportunity_posting_id,
    posting_record,
    stage_record,
    user_person,
)

log = logging.getLogger(__name__)

SOURCE = "lever"

# The events whose tasks name the candidate, the job or the stage: worth a look-up. A hire or an
# archive only completes tasks, which already carry their names.
LOOKED_UP = ("candidateStageChange", "applicationCreated", "interviewCreated", "interviewUpdated", "interviewDeleted")


# How far from now a delivery's signed triggeredAt may be: a failed delivery is retried with its
# first triggeredAt, so three days back are allowed; an older signature is a capture replayed.
MAX_DELIVERY_AGE = dt.timedelta(hours=72)
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)


def _check_fresh(triggered):
    """Refuse a signed triggeredAt (epoch milliseconds) far from now."""
    try:
        at = dt.datetime.fromtimestamp(int(triggered) / 1000, dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise SignatureError(f"triggeredAt {str(triggered)[:40]!r} is not a time in milliseconds") from None
    now = dt.datetime.now(dt.UTC)
    if at < now - MAX_DELIVERY_AGE or at > now + MAX_CLOCK_SKEW:
        raise SignatureError(f"triggeredAt {at:%Y-%m-%d %H:%M} UTC is too far from now (a replayed delivery?)")


@register
class Lever(Vendor):
    """Lever webhooks, normalised."""

    name = SOURCE

    OBJECTS = ("data", "data.toArchived")

    def verify(self, headers, body, integration):
        payload = read_object(body)
        token, triggered = payload.get("token"), payload.get("triggeredAt")
        if not isinstance(token, str) or not token or not isinstance(triggered, int | str) or triggered == "":
            raise SignatureError("no signature (a Lever delivery carries token, triggeredAt and signature)")
        message = f"{token}{triggered}".encode()
        check_hex_signature(payload.get("signature"), message, integration)
        _check_fresh(triggered)

    def event_id(self, headers, body, payload):
        # The signed pair alone names the delivery: Lever signs no more than token and triggeredAt,
        # so a captured delivery resent with another `id` or other data is the same delivery again.
        return f"{payload['token']}:{payload['triggeredAt']}"

    def action(self, payload):
        return str(payload.get("event", "")) if isinstance(payload, dict) else ""

    def prepare(self, event_row, integration):
        """Look up, through Lever's API, the opportunity a delivery names, with its owner, stage and
        posting, and keep them on the inbox row (users, stages and postings are cached)."""
        if integration is None or not integration.api_key or event_row.lookups is not None:
            return
        payload = event_row.payload if isinstance(event_row.payload, dict) else {}
        data = payload.get("data") or {}
        if payload.get("event") not in LOOKED_UP or not data.get("opportunityId"):
            return
        try:
            lookups = fetch_lookups(integration, data, lever_client(integration))
        except LeverAuthError as exc:
            report_refused_key(integration, exc)
            return
        except LeverError as exc:
            log.warning("Lever did not say more about event %s (names come from the mirror): %s", event_row.id, exc)
            return
        Event.update(lookups=lookups).where(Event.id == event_row.id).execute()
        event_row.lookups = lookups
        report_working(integration)

    def lookups(self, event_row, integration):
        """What `prepare` kept on the row: Lever's API's records for the delivery's ids."""
        return event_row.lookups or {}

    def normalise(self, event_row, lookups):
        payload = event_row.payload or {}
        data = payload.get("data") or {}
        handler = getattr(self, f"_on_{payload.get('event')}", None)
        if handler is None or not data.get("opportunityId"):
            return []
        occurred = first_time(payload.get("triggeredAt"), default=event_row.received_at)
        looked_up = lookups or {}
        return self._owner(event_row, looked_up, occurred) + handler(event_row, data, occurred, looked_up)

    def _owner(self, row, lookups, occurred):
        """The opportunity's owner, as Lever's API named them: the pipeline hands the candidate's open
        tasks to them when they are not the coordinator the mirror has (as a Greenhouse coordinator
        change does)."""
        candidate = lookups.get("candidate") or {}
        owner = candidate.get("coordinator") or {}
        if not owner.get("email") or not candidate.get("id"):
            return []
        return [
            self.envelope(
                row,
                "candidate.coordinator_reported",
                occurred,
                candidate=record(id=candidate["id"]),
                coordinator=owner,
                reason="owns the opportunity in Lever",
            )
        ]

    def _records(self, data, lookups):
        """Application, candidate and job: ids from Lever, names from the API's look-ups (the
        pipeline names the rest from the mirror)."""
        candidate_id = data.get("contactId") or data.get("candidateId")
        records = {
            "application": record(id=data["opportunityId"]),
            "candidate": record(id=candidate_id) if candidate_id else None,
        }
        for name in ("application", "candidate", "job"):
            if lookups.get(name):
                records[name] = lookups[name]
        return records

    def _stage(self, lookups, stage_id):
        """A stage the delivery names, with the name the API's look-ups found for it."""
        if not stage_id:
            return None
        return record(id=stage_id, name=(lookups.get("stage_names") or {}).get(str(stage_id)))

    def _on_candidateStageChange(self, row, data, occurred, lookups):
        if not data.get("toStageId"):
            return []
        records = self._records(data, lookups)
        previous = self._stage(lookups, data.get("fromStageId"))
        stage = self._stage(lookups, data["toStageId"])
        return [
            self.envelope(
                row,
                "application.stage_changed",
                occurred,
                stage=stage,
                previous_stage=previous,
                **records,
            )
        ]

    def _on_applicationCreated(self, row, data, occurred, lookups):
        """A new opportunity: into the mirror, with its posting as the job when Lever names one."""
        records = self._records(data, lookups)
        if data.get("postingId") and "job" not in records:
            records["job"] = record(id=data["postingId"])
        return [self.envelope(row, "application.created", occurred, **records)]

    def _on_candidateHired(self, row, data, occurred, lookups):
        records = self._records(data, lookups)
        return [self.envelope(row, "application.closed", occurred, reason="hired", **records)]

    def _on_candidateArchiveChange(self, row, data, occurred, lookups):
        archived = data.get("toArchived")
        if not archived:
            return []  # unarchived: Lever's next stage change brings it back
        records = self._records(data, lookups)
        when = first_time(archived.get("archivedAt"), default=row.received_at)
        return [self.envelope(row, "application.closed", when, reason="archived", **records)]

    def _interview(change):
        """Lever interviews are scheduled on an opportunity: a schedule made in the ATS, for the stage
        the application is in, which the pipeline finds in the mirror (else the stage Lever's API said)."""

        def handler(self, row, data, occurred, lookups):
            schedule_id = data.get("panelId") or data.get("interviewId")
            if not schedule_id:
                return []
            return [
                self.envelope(
                    row,
                    "schedule.changed",
                    occurred,
                    change=change,
                    schedule=record(id=schedule_id),
                    stage=lookups.get("stage"),
                    **self._records(data, lookups),
                )
            ]

        return handler

    _on_interviewCreated = _interview("created")
    _on_interviewUpdated = _interview("updated")
    _on_interviewDeleted = _interview("cancelled")
    del _interview

    def _on_candidateDeleted(self, row, data, occurred, lookups):
        """Deleting a candidate deletes the person and their opportunities: Docket erases the
        candidate (their tasks complete, for that reason) and closes the opportunity."""
        records = self._records(data, lookups)
        if not records["candidate"]:
            return []
        applications = [str(data["opportunityId"])]
        erased = self.erased(row, records["candidate"]["id"], "deleted in Lever", occurred, applications=applications)
        closed = envelope(
            SOURCE, f"{row.external_id}:closed", "application.closed", occurred, reason="deleted", **records
        )
        return [erased, closed]


def fetch_lookups(integration, data, client):
    """What Lever's API says about a delivery's opportunity, as Docket records for `normalise`:
    the candidate (name, e-mail, the opportunity's owner as coordinator), the application, the
    job (the posting), the opportunity's stage, and the names of the stages the delivery names.

    A refused key raises LeverAuthError and an opportunity Lever cannot give LeverError; a user,
    stage or posting Lever does not give is left without its name.
    """
    opportunity = client.opportunity(data["opportunityId"]) or {}
    if not opportunity:
        raise LeverError(None, f"no opportunity {data['opportunityId']}")
    emails = [e for e in opportunity.get("emails") or [] if e]
    candidate_id = opportunity.get("contact") or data.get("contactId") or data.get("candidateId")
    stage = stage_record(integration, opportunity.get("stage"), client)
    stage_names = {}
    for stage_id in {data.get("fromStageId"), data.get("toStageId"), opportunity.get("stage")} - {None, ""}:
        named = stage if stage and stage["id"] == str(stage_id) else stage_record(integration, stage_id, client)
        if named.get("name"):
            stage_names[str(stage_id)] = named["name"]
    return {
        "application": record(id=data["opportunityId"], url=(opportunity.get("urls") or {}).get("show")),
        "candidate": record(
            id=candidate_id,
            name=opportunity.get("name") or None,
            email=emails[0] if emails else None,
            coordinator=user_person(integration, opportunity.get("owner"), client),
        )
        if candidate_id
        else None,
        "job": posting_record(integration, data.get("postingId") or opportunity_posting_id(opportunity), client),
        "stage": stage,
        "stage_names": stage_names,
    }
