"""The adapter interface every ATS implements, and what the adapters share: signatures, ids and times.

A vendor is one module with one `Vendor` subclass registered with `register`:
`verify` checks a delivery, `event_id` names it for the inbox, `is_ping` spots
the vendor's liveness checks, `prepare` makes the vendor calls a row needs before the worker's
transaction, and `normalise` turns a stored row, with what those calls found (`lookups`), into
Docket envelopes: a pure function, reading and writing nothing. An empty list: nothing Docket
needs, the row is marked ignored. Besides the rulebook's events, an adapter may return envelopes
that only keep the mirror current (`candidate.updated`, `job.updated`…) or report a schedule for
the pipeline to resolve against the mirror (see webapp/row_events.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from ..envelope import envelope, record
from ..inbound import MAX_ID_LENGTH, InboundError, read_json
from ..models import Integration, to_utc


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
        for path in _overlong_ids(payload):
            raise InboundError(f"{path} is longer than {MAX_ID_LENGTH} characters", "bad_payload", path)

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

    def lookups(self, event_row, integration: Integration | None) -> dict:
        """What `prepare` found for a row, as `normalise` reads it: kept on the row or in the
        integration's caches. Most vendors need none."""
        return {}

    def envelope(self, row, etype, occurred_at=None, **data):
        """A Docket envelope for one of this vendor's inbox rows, named by the row; it happened when
        the vendor says (`occurred_at`), else when the row arrived."""
        return envelope(self.name, row.external_id, etype, occurred_at or first_time(default=row.received_at), **data)

    def erased(self, row, candidate_id, reason, occurred_at=None, merged_into=None, applications=None):
        """A candidate.erased envelope (their tasks complete, their data goes: webapp/erasure.py),
        or None without a candidate id."""
        if candidate_id in (None, ""):
            return None
        return self.envelope(
            row,
            "candidate.erased",
            occurred_at,
            candidate=record(id=candidate_id),
            merged_into=record(id=merged_into) if merged_into not in (None, "") else None,
            applications=applications or None,
            reason=reason,
        )

    def normalise(self, event_row, lookups: dict) -> list[dict]:
        """The envelopes a stored row stands for, from the row and its look-ups alone."""
        raise NotImplementedError


def _is_id_key(key):
    return key == "id" or key.endswith(("_id", "Id"))


def _overlong_ids(value, path=""):
    """The paths of the ids in a payload (`id`, `…_id`, `…Id`, and the items of `…_ids`, `…Ids`)
    longer than the mirror keeps."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if _is_id_key(key) and isinstance(item, str) and len(item) > MAX_ID_LENGTH:
                yield where
            elif key.endswith(("_ids", "Ids")) and isinstance(item, list):
                yield from (
                    f"{where}[{i}]" for i, one in enumerate(item) if isinstance(one, str) and len(one) > MAX_ID_LENGTH
                )
            else:
                yield from _overlong_ids(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _overlong_ids(item, f"{path}[{index}]")


VENDORS: dict[str, Vendor] = {}


def register(vendor_class):
    """Class decorator: make a vendor known to the webhook endpoint and the pipeline."""
    VENDORS[vendor_class.name] = vendor_class()
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


def check_sha256_header(value: str | None, separator: str, body: bytes, integration: Integration) -> None:
    """Check a `sha256<separator><hex>` signature header (HMAC-SHA256 of the raw body); raise
    SignatureError when it is missing, of another scheme, or does not match."""
    scheme, _, digest = (value or "").strip().partition(separator)
    check_hex_signature(digest if scheme.lower() == "sha256" else None, body, integration)


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


def person(email, name=None):
    return {"email": email, "name": name or ""} if email else None
