"""Lever's REST API: the client the adapter uses to name what webhooks give only ids for, and the
integration's cache of Lever's users, stages and postings.

Lever (hire.lever.co/developer/documentation) answers `{"data": ...}` at https://api.lever.co/v1,
with HTTP Basic auth (the API key as user name, an empty password). Lists come a page at a time:
`{"data": [...], "hasNext": true, "next": "<token>"}`, the token passed back as `offset`.
Too many requests are answered 429.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from urllib.parse import quote, urlencode

from flask import current_app, has_app_context

from ..db import database, is_postgres
from ..models import Integration
from .base import person, record
from .http import retry_after_seconds, urllib_transport

log = logging.getLogger(__name__)


class LeverError(Exception):
    """Lever answered with an error."""

    def __init__(self, status, message):
        super().__init__(f"Lever answered {status}: {message}" if status else f"Lever did not answer: {message}")
        self.status = status
        self.message = message


class LeverAuthError(LeverError):
    """Lever refused the API key (401) or its permissions (403)."""


class LeverUnavailable(LeverError):
    """Lever did not answer (no connection, a time-out) or answered with a server error (5xx)."""


class LeverClient:
    """The few Lever API calls Docket makes, following `hasNext`/`next` and honouring 429's `Retry-After`."""

    BASE_URL = "https://api.lever.co/v1"
    PAGE_LIMIT = 100  # Lever's largest page
    MAX_RETRIES = 5
    DEFAULT_RETRY_AFTER_SECONDS = 1  # Lever's limit is per second (10 a second, bursts of 20)

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
                raise LeverUnavailable(None, f"no answer ({exc})") from exc
            if status == 429 and attempt < self.MAX_RETRIES:
                seconds = retry_after_seconds(headers, self.DEFAULT_RETRY_AFTER_SECONDS)
                log.info("Lever rate limit: waiting %ss", seconds)
                self.sleep(seconds)
                continue
            if status in (401, 403):
                raise LeverAuthError(status, _message(body) or "the API key was refused")
            if status >= 500:
                raise LeverUnavailable(status, _message(body) or "server error")
            if status >= 400:
                raise LeverError(status, _message(body) or "request failed")
            try:
                return json.loads(body or b"null")
            except ValueError as exc:
                raise LeverUnavailable(status, "an answer that is not JSON") from exc
        raise LeverError(429, "still rate limited after retries")

    def url(self, path, **params):
        query = urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
        return f"{self.base_url}{path}" + (f"?{query}" if query else "")

    def get(self, path, **params):
        """One record: the `data` of Lever's answer."""
        answer = self._request(self.url(path, **params))
        return (answer or {}).get("data") if isinstance(answer, dict) else None

    def paginate(self, path, **params):
        """Every item of a list endpoint, page after page while Lever says `hasNext`."""
        offset = None
        while True:
            page = self._request(self.url(path, limit=self.PAGE_LIMIT, offset=offset, **params)) or {}
            yield from page.get("data") or []
            if not page.get("hasNext") or not page.get("next"):
                return
            offset = page["next"]

    def opportunity(self, opportunity_id):
        # Expanded, the opportunity's applications name their posting (the job) in the same call.
        return self.get(f"/opportunities/{_segment(opportunity_id)}", expand="applications")

    def user(self, user_id):
        return self.get(f"/users/{_segment(user_id)}")

    def stage(self, stage_id):
        return self.get(f"/stages/{_segment(stage_id)}")

    def posting(self, posting_id):
        return self.get(f"/postings/{_segment(posting_id)}")


def _segment(value):
    return quote(str(value), safe="")


def _message(body):
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return (body or b"")[:200].decode(errors="replace")
    return data.get("message") if isinstance(data, dict) else None


def lever_client(integration, transport=None, sleep=None):
    """A Lever client for the integration; tests put a fake transport in LEVER_TRANSPORT."""
    if transport is None and has_app_context():
        transport = current_app.config.get("LEVER_TRANSPORT")
    if sleep is None and has_app_context():
        sleep = current_app.config.get("LEVER_SLEEP")
    return LeverClient(integration.api_key, transport=transport, sleep=sleep or time.sleep)


# -- the integration's cache: users, stage names, postings ---------------------------------------


def _cached(integration, section, key):
    return ((integration.state or {}).get(section) or {}).get(str(key))


def remember(integration, section, key, value):
    """Add an entry to a section of the integration's cache, on a fresh copy of its state, so that
    whatever was saved meanwhile (its health, another worker's entries) is kept."""
    with database.atomic():
        query = Integration.select().where(Integration.id == integration.id)
        fresh = (query.for_update() if is_postgres() else query).first()
        if fresh is None:
            return
        state = dict(fresh.state or {})
        state[section] = {**(state.get(section) or {}), str(key): value}
        Integration.update(state=state).where(Integration.id == integration.id).execute()
    integration.state = {**(integration.state or {}), section: state[section]}


def _look_up(integration, section, key, fetch):
    """A cached entry, else `fetch()` remembered; None when Lever cannot say (a refused key raises)."""
    cached = _cached(integration, section, key)
    if cached is not None:
        return cached
    try:
        value = fetch()
    except LeverAuthError:
        raise
    except LeverError as exc:
        log.warning("could not look up Lever %s %s: %s", section, key, exc)
        return None
    if value is not None:
        remember(integration, section, key, value)
    return value


def user_person(integration, user_id, client):
    """A Lever user id as a person (e-mail and name), from the cache or `GET /v1/users/{id}`."""
    if not user_id:
        return None

    def fetch():
        user = client.user(user_id) or {}
        return {"email": user["email"], "name": user.get("name") or ""} if user.get("email") else None

    user = _look_up(integration, "users", user_id, fetch)
    return person(user.get("email"), user.get("name")) if user else None


def stage_record(integration, stage_id, client):
    """A Lever stage id as a record with its name, from the cache or `GET /v1/stages/{id}`."""
    if not stage_id:
        return None
    name = _look_up(integration, "stages", stage_id, lambda: (client.stage(stage_id) or {}).get("text") or None)
    return record(id=stage_id, name=name)


def posting_record(integration, posting_id, client):
    """A Lever posting as Docket's job: its title, and its owner as the job's coordinator."""
    if not posting_id:
        return None

    def fetch():
        posting = client.posting(posting_id) or {}
        return {"text": posting.get("text") or "", "owner": posting.get("owner")} if posting else None

    posting = _look_up(integration, "postings", posting_id, fetch)
    if not posting:
        return record(id=posting_id)
    return record(
        id=posting_id,
        name=posting.get("text") or None,
        coordinator=user_person(integration, posting.get("owner"), client),
    )


def opportunity_posting_id(opportunity):
    """The posting of an opportunity's (expanded) applications: the first that names one."""
    for application in opportunity.get("applications") or []:
        if isinstance(application, dict) and application.get("posting"):
            return application["posting"]
    return None
