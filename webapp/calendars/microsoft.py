"""Microsoft 365 calendars through Microsoft Graph, with an app-only token from msal (client
credentials of a tenant): events on the organizer's calendar, a subscription on each
organizer's events (its clientState checked on every notification), and delta queries on
calendarView that say who answered what.

Graph is reached through a transport `(method, url, headers, body) -> (status, headers, body)`
and msal through its `http_client`, so tests serve Microsoft's documented responses offline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
import time
import urllib.parse

from flask import current_app, has_app_context

from ..models import CalendarWatch, Integration, to_utc
from .changes import AttendeeAnswer, CursorExpired, EventChange, Watch
from .health import SETTINGS_HINT, CredentialsRejected, domain_of, refusals_reported
from .port import PROVIDERS, CalendarError, CalendarEvent

log = logging.getLogger(__name__)

GRAPH = "https://graph.microsoft.com/v1.0"
AUTHORITY = "https://login.microsoftonline.com/{tenant}"
SCOPES = ["https://graph.microsoft.com/.default"]
DEFAULT_TIMEOUT_SECONDS = 30
# Graph's status.response -> Docket's response ("organizer" is the organizer's own: not an answer).
RESPONSES = {
    "none": "needs_action",
    "notResponded": "needs_action",
    "accepted": "accepted",
    "tentativelyAccepted": "tentative",
    "declined": "declined",
}
# Entra ID error codes that say the secret itself is the problem.
EXPIRED_SECRET = 7000222
DELTA_WINDOW = dt.timedelta(days=365)


def requests_transport(method, url, headers, body):
    """Send a Graph request with requests; HTTP errors are answers, not exceptions."""
    import requests

    response = requests.request(method, url, headers=headers, data=body, timeout=DEFAULT_TIMEOUT_SECONDS)
    return response.status_code, dict(response.headers), response.content


def _transport():
    configured = current_app.config.get("GRAPH_TRANSPORT") if has_app_context() else None
    return configured or requests_transport


def _msal_http_client():
    return current_app.config.get("MSAL_HTTP_CLIENT") if has_app_context() else None


def _sleep(seconds):
    configured = current_app.config.get("GRAPH_SLEEP") if has_app_context() else None
    (configured or time.sleep)(seconds)


# Graph throttles with 429 (and sometimes 503) and a Retry-After in seconds, and asks clients to
# wait that long before trying again: a few tries, each waiting as told (at most MAX_WAIT; a 429
# without Retry-After waits DEFAULT_WAIT).
THROTTLED = (429, 503)
THROTTLE_RETRIES = 3
THROTTLE_DEFAULT_WAIT_SECONDS = 5
THROTTLE_MAX_WAIT_SECONDS = 120

# One msal application per set of credentials and process: msal keeps the app-only token in its
# cache and hands it out again until it is about to expire, instead of asking for one per call.
_msal_apps = {}
_msal_lock = threading.Lock()


def _msal_app(credentials, http_client):
    import msal

    secret_digest = hashlib.sha256(credentials["client_secret"].encode()).hexdigest()
    key = (credentials["client_id"], credentials["tenant_id"], secret_digest, id(http_client))
    with _msal_lock:
        app = _msal_apps.get(key)
        if app is None:
            app = _msal_apps[key] = msal.ConfidentialClientApplication(
                credentials["client_id"],
                authority=AUTHORITY.format(tenant=credentials["tenant_id"]),
                client_credential=credentials["client_secret"],
                http_client=http_client,
            )
        return app


def _graph_time(value):
    """A dateTimeTimeZone in UTC, as Graph writes them."""
    return {"dateTime": to_utc(value).replace(tzinfo=None).isoformat(), "timeZone": "UTC"}


def _iso_z(value):
    return to_utc(value).isoformat().replace("+00:00", "Z")


class GraphClient:
    """Microsoft Graph for one tenant, with an app-only token (client credentials)."""

    def __init__(self, integration: Integration):
        self.integration = integration
        self._token = None

    @property
    def tenant(self):
        return domain_of(self.integration)

    def _refused(self, detail, code):
        return CredentialsRejected(
            f"Microsoft 365 no longer accepts Docket's credentials for calendars of {self.tenant}{detail}: "
            f"{SETTINGS_HINT}",
            code=code,
        )

    def token(self):
        """An access token for Graph from msal; refused credentials raise CredentialsRejected."""
        if self._token:
            return self._token
        credentials = self.integration.credentials or {}
        try:
            app = _msal_app(credentials, _msal_http_client())
        except KeyError as exc:
            raise self._refused(f" (no {exc.args[0]} saved)", "invalid_client") from None
        except ValueError as exc:  # OIDC discovery refused: no such tenant
            raise self._refused(f" (the tenant is unknown: {exc})", "invalid_tenant") from None
        result = app.acquire_token_for_client(scopes=SCOPES)
        if "access_token" in result:
            self._token = result["access_token"]
            return self._token
        error = result.get("error") or "error"
        codes = result.get("error_codes") or []
        if EXPIRED_SECRET in codes:
            raise self._refused(" (the client secret has expired)", "expired_secret")
        if error in ("invalid_client", "unauthorized_client", "invalid_grant", "invalid_request", "invalid_scope"):
            raise self._refused("", error)
        raise CalendarError(
            f"Microsoft could not issue a token: {result.get('error_description') or error}", code=error
        )

    def request(self, method, path_or_url, body=None, headers=None, calendar=None):
        """One Graph call; returns the parsed JSON body (None when empty), raising CalendarError on failure."""
        url = path_or_url if path_or_url.startswith("https://") else GRAPH + path_or_url
        sent = {"Authorization": f"Bearer {self.token()}", "Accept": "application/json", **(headers or {})}
        data = None
        if body is not None:
            sent["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        for attempt in range(THROTTLE_RETRIES + 1):
            try:
                status, answer_headers, content = _transport()(method, url, sent, data)
            except OSError as exc:
                raise CalendarError(f"Microsoft Graph could not be reached: {exc}", code="unreachable") from exc
            wait = _retry_after(answer_headers)
            if status not in THROTTLED or attempt == THROTTLE_RETRIES or (status == 503 and wait is None):
                break  # a 503 is a wait only when Graph says how long
            wait = THROTTLE_DEFAULT_WAIT_SECONDS if wait is None else wait
            log.info("Graph throttled %s %s (%s): waiting %ss as Retry-After says", method, url, status, wait)
            _sleep(wait)
        payload = None
        if content:
            try:
                payload = json.loads(content)
            except ValueError:
                payload = None
        if status < 400:
            return payload
        error = (payload or {}).get("error") or {}
        code = error.get("code") or f"http_{status}" if isinstance(error, dict) else f"http_{status}"
        message = error.get("message", "") if isinstance(error, dict) else ""
        if status == 401:
            raise self._refused("", code)
        if status == 403:
            raise CredentialsRejected(
                f"Microsoft 365 refuses Docket access to the calendar of {calendar or self.tenant} ({code}): "
                f"grant the app Calendars.ReadWrite in {self.tenant}, then {SETTINGS_HINT}",
                code=code,
            )
        if status == 410:
            raise CursorExpired(message or "the delta link expired", code=code)
        if status == 404:
            raise CalendarError(message or "not found", code="not_found")
        raise CalendarError(f"Microsoft Graph answered {status}: {message or code}", code=f"http_{status}")


def _retry_after(headers):
    for name, value in (headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return min(max(float(value), 0), THROTTLE_MAX_WAIT_SECONDS)
            except (TypeError, ValueError):
                break
    return None


def event_body(event: CalendarEvent):
    """Graph's event resource for a Docket calendar event: the room as a resource attendee."""
    attendees = [
        {
            "emailAddress": {"address": invitee.email, "name": invitee.name or invitee.email},
            "type": "resource" if invitee.kind == "room" else "required",
        }
        for invitee in event.invitees
    ]
    body = {
        "subject": event.title,
        "body": {"contentType": "text", "content": event.description},
        "start": _graph_time(event.starts_at),
        "end": _graph_time(event.ends_at),
        "attendees": attendees,
        "allowNewTimeProposals": False,
    }
    if event.location:
        body["location"] = {"displayName": event.location}
    return body


def _user_path(calendar):
    return "/users/" + urllib.parse.quote(calendar, safe="@.")


class MicrosoftCalendar:
    """The calendar port on Microsoft 365: events live on the organizer's calendar."""

    def __init__(self, integration: Integration):
        self.integration = integration

    def _guarded(self, call):
        with refusals_reported(self.integration):
            return call(GraphClient(self.integration))

    def create_event(self, event: CalendarEvent) -> str:
        created = self._guarded(
            lambda graph: graph.request(
                "POST", f"{_user_path(event.organizer)}/events", event_body(event), calendar=event.organizer
            )
        )
        CalendarWatch.calendar_in_use(self.integration, event.organizer)
        return created["id"]

    def update_event(self, event_id: str, event: CalendarEvent) -> None:
        self._guarded(
            lambda graph: graph.request(
                "PATCH", f"{_user_path(event.organizer)}/events/{event_id}", event_body(event), calendar=event.organizer
            )
        )

    def cancel_event(self, event_id: str, organizer: str) -> None:
        self._guarded(
            lambda graph: graph.request(
                "POST",
                f"{_user_path(organizer)}/events/{event_id}/cancel",
                {"comment": "This interview was cancelled."},
                calendar=organizer,
            )
        )


# -- Watching and syncing -----------------------------------------------------------------------


def _answers(item):
    answers = []
    for attendee in item.get("attendees") or []:
        address = ((attendee.get("emailAddress") or {}).get("address") or "").strip().lower()
        response = RESPONSES.get((attendee.get("status") or {}).get("response"))
        if address and response:
            answers.append(AttendeeAnswer(address, (attendee.get("emailAddress") or {}).get("name") or "", response))
    return tuple(answers)


def changes(integration, calendar, cursor, window_start=None):
    """Events changed on the organizer's calendarView since `cursor` (a delta link; None: a full round).

    Returns (changes, next delta link); raises CursorExpired when Graph no longer knows the link.
    """
    graph = GraphClient(integration)
    if cursor:
        url = cursor
    else:
        start = window_start or dt.datetime.now(dt.UTC)
        query = urllib.parse.urlencode({"startDateTime": _iso_z(start), "endDateTime": _iso_z(start + DELTA_WINDOW)})
        url = f"{GRAPH}{_user_path(calendar)}/calendarView/delta?{query}"
    found = []
    while True:
        page = graph.request("GET", url, headers={"Prefer": "odata.maxpagesize=50"}, calendar=calendar) or {}
        for item in page.get("value") or []:
            if "@removed" in item:
                found.append(
                    EventChange(event_id=item["id"], occurred_at=_iso_z(dt.datetime.now(dt.UTC)), cancelled=True)
                )
                continue
            found.append(
                EventChange(
                    event_id=item["id"],
                    occurred_at=item.get("lastModifiedDateTime") or _iso_z(dt.datetime.now(dt.UTC)),
                    cancelled=bool(item.get("isCancelled")),
                    answers=_answers(item),
                )
            )
        if page.get("@odata.nextLink"):
            url = page["@odata.nextLink"]
            continue
        return found, page.get("@odata.deltaLink")


def watch(integration, calendar, channel_id, token, address, ttl_seconds):
    """Subscribe to the organizer's events; Graph sends `token` back as clientState. `channel_id`
    is unused: Graph names the subscription."""
    expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ttl_seconds)
    body = {
        "changeType": "created,updated,deleted",
        "notificationUrl": address,
        "lifecycleNotificationUrl": f"{address}/lifecycle",
        "resource": f"{_user_path(calendar)}/events",
        "expirationDateTime": _iso_z(expires_at),
        "clientState": token,
    }
    subscription = GraphClient(integration).request("POST", "/subscriptions", body, calendar=calendar)
    return Watch(
        channel_id=subscription["id"],
        expires_at=to_utc(subscription.get("expirationDateTime") or expires_at),
    )


def renew(integration, calendar, subscription_id, expires_at):
    """Extend a subscription (this also reauthorizes it); None when Graph no longer has it."""
    try:
        renewed = GraphClient(integration).request(
            "PATCH", f"/subscriptions/{subscription_id}", {"expirationDateTime": _iso_z(expires_at)}, calendar=calendar
        )
    except CalendarError as exc:
        if exc.code == "not_found":
            return None
        raise
    return to_utc((renewed or {}).get("expirationDateTime") or expires_at)


def probe(integration):
    """Prove the credentials work: Microsoft issues Graph a token for them."""
    GraphClient(integration).token()
    return True


def stop(integration, calendar, subscription_id, resource_id=None):
    """Delete a subscription; one Graph no longer knows is deleted already."""
    try:
        GraphClient(integration).request("DELETE", f"/subscriptions/{subscription_id}", calendar=calendar)
    except CalendarError as exc:
        if exc.code != "not_found":
            raise


PROVIDERS["microsoft"] = MicrosoftCalendar
