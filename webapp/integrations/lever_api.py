"""Lever's REST API: the client the adapter uses to name what webhooks give only ids for, and the
integration's cache of Lever's users, stages and postings.

Lever (hire.lever.co/developer/documentation) answers `{"data": ...}` at https://api.lever.co/v1,
with HTTP Basic auth (the API key as user name, an empty password). Lists come a page at a time:
`{"data": [...], "hasNext": true, "next": "<token>"}`, the token passed back as `offset`.
Too many requests are answered 429.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from ..envelope import record
from .base import person
from .http import VendorClient, vendor_errors

log = logging.getLogger(__name__)


LeverError, LeverAuthError, LeverUnavailable = vendor_errors("Lever", __name__)


class LeverClient(VendorClient):
    """The few Lever API calls Docket makes, following `hasNext`/`next` and honouring 429's `Retry-After`."""

    SETTINGS = "LEVER"
    BASE_URL = "https://api.lever.co/v1"
    PAGE_LIMIT = 100  # Lever's largest page
    DEFAULT_RETRY_AFTER_SECONDS = 1  # Lever's limit is per second (10 a second, bursts of 20)
    Error = LeverError
    AuthError = LeverAuthError
    Unavailable = LeverUnavailable

    def get(self, path, **params):
        """One record: the `data` of Lever's answer."""
        answer = self.request(self.url(path, **params))[1]
        return (answer or {}).get("data") if isinstance(answer, dict) else None

    def paginate(self, path, **params):
        """Every item of a list endpoint, page after page while Lever says `hasNext`."""
        offset = None
        while True:
            page = self.request(self.url(path, limit=self.PAGE_LIMIT, offset=offset, **params))[1] or {}
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


def lever_client(integration, transport=None, sleep=None):
    """A Lever client for the integration; tests put a fake transport in LEVER_TRANSPORT."""
    return LeverClient.of(integration, transport, sleep)


# -- the integration's cache: users, stage names, postings ---------------------------------------


def _look_up(integration, section, key, fetch):
    """A cached entry, else `fetch()` remembered; None when Lever cannot say (a refused key raises)."""
    cached = integration.cached(section, key)
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
        integration.remember(section, key, value)
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
