"""Greenhouse's Harvest API: the client the sync and the webhook adapter use, and the
integration's cache of Harvest's users (the hiring-team members webhooks give only ids for).

Harvest (developers.greenhouse.io/harvest.html) answers JSON at https://harvest.greenhouse.io/v1,
with HTTP Basic auth (the API key as user name, an empty password). Lists come a page at a time,
the next page named by the `Link` header's rel="next". Too many requests are answered 429 with a
`Retry-After`.
"""

from __future__ import annotations

import logging

from .base import person
from .http import VendorClient, header, next_link, vendor_errors

log = logging.getLogger(__name__)


HarvestError, HarvestAuthError, HarvestUnavailable = vendor_errors("Harvest", __name__)


class HarvestClient(VendorClient):
    """The few Harvest API calls Docket makes, following `Link` pagination and honouring `Retry-After`."""

    SETTINGS = "HARVEST"
    BASE_URL = "https://harvest.greenhouse.io/v1"
    PER_PAGE = 100
    DEFAULT_RETRY_AFTER_SECONDS = 10
    Error = HarvestError
    AuthError = HarvestAuthError
    Unavailable = HarvestUnavailable

    def get(self, path, **params):
        return self.request(self.url(path, **params))[1]

    def paginate(self, path, **params):
        """Every item of a list endpoint, page after page as the `Link` header's rel="next" says."""
        url = self.url(path, per_page=self.PER_PAGE, **params)
        while url:
            headers, items = self.request(url)
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


def harvest_client(integration, transport=None, sleep=None):
    """A Harvest client for the integration; tests put a fake transport in HARVEST_TRANSPORT."""
    return HarvestClient.of(integration, transport, sleep)


def cached_person(users, user_id):
    """A Greenhouse user id as a person, from a copy of the integration's cache of Harvest's users
    (`{user id: {email, name}}`), or None when the cache does not have them."""
    cached = (users or {}).get(str(user_id)) if user_id is not None else None
    return person(cached.get("email"), cached.get("name")) if cached else None


def user_person(integration, user_id, client=None):
    """A Greenhouse user id as a person (e-mail and name), from the integration's cache of Harvest's
    users or else from `GET /v1/users/{id}` (then cached).

    None when it cannot be known: no API key, a user without an e-mail, or Harvest not answering.
    A refused key (401/403) raises HarvestAuthError: the caller reports the broken integration.
    """
    if user_id is None or integration is None:
        return None
    cached = integration.cached("users", user_id)
    if cached:
        return person(cached.get("email"), cached.get("name"))
    if not integration.api_key:
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
    integration.remember("users", user_id, {"email": email, "name": user.get("name") or ""})
    return person(email, user.get("name"))


def responsible_coordinator_id(hiring_team):
    """The hiring team's responsible coordinator (else its first active one), as a user id."""
    coordinators = (hiring_team or {}).get("coordinators") or []
    coordinators = [c for c in coordinators if c.get("active", True)]
    chosen = next((c for c in coordinators if c.get("responsible")), coordinators[0] if coordinators else None)
    if chosen is None:
        return None
    return chosen.get("user_id", chosen.get("id"))


def job_coordinator(integration, hiring_team, client=None):
    """The person a job's hiring team names as its responsible coordinator, as `user_person` finds them."""
    return user_person(integration, responsible_coordinator_id(hiring_team), client)


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
