"""The adapter interface every ATS implements, and what the adapters share: signatures, ids, times,
and handing a candidate's open tasks to their new coordinator.

A vendor is one module with one `Vendor` subclass registered with `register`:
`verify` checks a delivery, `event_id` names it for the inbox, `is_ping` spots
the vendor's liveness checks, and `normalise` turns a stored row into Docket
envelopes (an empty list: nothing Docket needs, the row is marked ignored; an empty
`MirrorOnly`: the mirror was updated, the row is processed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from ..inbound import InboundError, read_json
from ..models import Candidate, Integration, Task, TaskHistory, User, to_utc


class SignatureError(Exception):
    """A delivery whose signature is missing or does not match: answered 401, nothing stored."""


class Vendor:
    """One ATS. Subclasses set `name` and implement verify, event_id, action and normalise."""

    name = ""

    def verify(self, headers, body: bytes, integration: Integration) -> None:
        """Raise SignatureError unless the raw body was signed with one of the integration's secrets."""
        raise NotImplementedError

    def parse(self, body: bytes):
        """The JSON payload of a delivery (after verify), read within inbound's bounds."""
        return read_json(body)

    # The objects `normalise` reads, by path from the payload: each must be a JSON object when present.
    OBJECTS: tuple[str, ...] = ()

    def check(self, payload: dict) -> None:
        """Raise InboundError for a payload this vendor could never process (an object `normalise`
        reads that is something else); the webhook answers 400 and stores nothing."""
        for path in self.OBJECTS:
            value = payload
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value is not None and not isinstance(value, dict):
                raise InboundError(f"{path} must be a JSON object in a {self.name} webhook", "bad_payload", path)

    def event_id(self, headers, body: bytes, payload) -> str:
        """The delivery's id in the inbox: the vendor's, or a hash of the body where it sends none."""
        return body_hash(body)

    def action(self, payload) -> str:
        """The vendor's name for what happened."""
        return str(payload.get("action", "")) if isinstance(payload, dict) else ""

    def is_ping(self, payload) -> bool:
        return self.action(payload) == "ping"

    def prepare(self, event_row, integration: Integration | None) -> None:
        """Make the vendor calls `normalise` will need, before the worker's transaction (so that no
        vendor call holds the database's write lock), reporting a broken integration itself.
        Most vendors send all they mean and need none."""

    def normalise(self, event_row, integration: Integration | None) -> list[dict]:
        raise NotImplementedError


class MirrorOnly(list):
    """What `normalise` returns for a delivery that kept the mirror current (or handed tasks over)
    but has nothing for the rulebook: the inbox row is processed, not ignored."""


VENDORS: dict[str, Vendor] = {}


def register(vendor_class):
    """Class decorator: make a vendor known to the webhook endpoint and the pipeline."""
    from . import ADAPTERS, PREPARERS

    vendor = vendor_class()
    VENDORS[vendor.name] = vendor

    def adapter(event_row):
        return vendor.normalise(event_row, Integration.of(event_row.account_id, vendor.name))

    ADAPTERS[vendor.name] = adapter
    if vendor_class.prepare is not Vendor.prepare:
        PREPARERS[vendor.name] = vendor
    return vendor_class


def body_hash(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def check_hex_signature(given: str | None, message: bytes, integration: Integration) -> None:
    """Compare a hex HMAC-SHA256 against each secret in constant time; raise SignatureError on no match."""
    if not isinstance(given, str) or not given:
        raise SignatureError("no signature" if not given else "the signature is not a hex string")
    secrets = integration.webhook_secrets
    if not secrets:
        raise SignatureError("no webhook secret is configured")
    given = given.strip().lower().encode()
    matched = False
    for secret in secrets:  # every secret is tried, so timing does not say which matched
        matched |= hmac.compare_digest(hmac_hex(secret, message).encode(), given)
    if not matched:
        raise SignatureError("signature does not match")


def iso(value) -> str:
    """An aware datetime, or an ISO string, as the envelope's ISO-8601 UTC string."""
    return to_utc(value).isoformat().replace("+00:00", "Z")


def first_time(*values, default):
    """The first of the values that is an ISO time (or epoch milliseconds), else the default."""
    for value in values:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return iso(dt.datetime.fromtimestamp(value / 1000, dt.UTC))
        if isinstance(value, str) and value:
            try:
                return iso(value)
            except ValueError:
                continue
    return iso(default)


def envelope(source, event_id, etype, occurred_at, **data):
    """A Docket envelope; records whose value is None are left out."""
    return {
        "id": str(event_id),
        "source": source,
        "type": etype,
        "occurred_at": occurred_at,
        "data": {k: v for k, v in data.items() if v is not None},
    }


def record(**fields):
    """A record with its None fields left out and its id as a string."""
    out = {k: v for k, v in fields.items() if v is not None}
    if "id" in out:
        out["id"] = str(out["id"])
    return out


def person(email, name=None):
    return {"email": email, "name": name or ""} if email else None


def hand_over_candidate_tasks(account, candidate_id, coordinator: User, event_row, note=None) -> list[Task]:
    """Give a candidate's open tasks to their (new) coordinator, noting each hand-over in the task's history."""
    candidate_id = str(candidate_id)
    moved = []
    open_tasks = Task.select().where(Task.account == account, Task.status == Task.OPEN)
    for task in open_tasks:
        about = (task.subjects or {}).get("candidate") or {}
        if str(about.get("id")) != candidate_id or task.assignee_id == coordinator.id:
            continue
        previous = task.assignee.display_name if task.assignee_id else "nobody"
        task.assignee = coordinator
        task.save()
        TaskHistory.create(
            account=account,
            task=task,
            kind="reassigned",
            event=event_row,
            note=note or f"{coordinator.display_name} is now the candidate's coordinator (was {previous})",
        )
        moved.append(task)
    return moved


def update_candidate_coordinator(account, candidate_id, coordinator_person, event_row, **fields):
    """Upsert a candidate in the mirror; when the ATS names a new coordinator, they take over its open tasks."""
    candidate = Candidate.get_or_none(Candidate.account == account, Candidate.external_id == str(candidate_id))
    coordinator = None
    if coordinator_person and coordinator_person.get("email"):
        coordinator = User.for_email(account, coordinator_person["email"], coordinator_person.get("name"))
    # Only a change of coordinator moves tasks: an edit that names the same coordinator leaves
    # alone the tasks a colleague has taken over in Docket.
    changed = coordinator is not None and (candidate is None or candidate.coordinator_id != coordinator.id)
    fields = {k: v for k, v in fields.items() if v is not None}
    if candidate is None:
        candidate = Candidate.create(account=account, external_id=str(candidate_id), coordinator=coordinator, **fields)
    else:
        for name, value in fields.items():
            setattr(candidate, name, value)
        if coordinator is not None:
            candidate.coordinator = coordinator
        candidate.save()
    if changed:
        hand_over_candidate_tasks(account, candidate_id, coordinator, event_row)
    return candidate
