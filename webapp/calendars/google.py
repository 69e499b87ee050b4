"""Google Calendar through google-api-python-client: schedules' events on the organizer's calendar,
push channels (`events.watch`) on those calendars, and incremental syncs (`events.list` with a
sync token) that say who answered what.

Credentials are a service account with domain-wide delegation (Docket acts as each organizer)
or OAuth credentials of one user (a refresh token). Every call goes through one httplib2
object, so tests serve Google's documented responses with `HttpMockSequence`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time

from flask import current_app, has_app_context

from ..models import CalendarWatch, Integration, to_utc
from .changes import AttendeeAnswer, CursorExpired, EventChange, Watch
from .health import SETTINGS_HINT, CredentialsRejected, domain_of, refusals_reported
from .port import PROVIDERS, CalendarError, CalendarEvent

log = logging.getLogger(__name__)

SCOPES = ["https://www.googleapis.com/auth/calendar.events"]
TOKEN_URI = "https://oauth2.googleapis.com/token"
DEFAULT_TIMEOUT_SECONDS = 30
# Google's responseStatus -> Docket's response.
RESPONSES = {"needsAction": "needs_action", "declined": "declined", "tentative": "tentative", "accepted": "accepted"}
# 403 reasons that mean "slow down", not "you may not".
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded"}
# Token endpoint errors that mean the credentials themselves are no good.
REFUSED_GRANTS = {"invalid_grant", "unauthorized_client", "invalid_client", "access_denied"}


def _base_http():
    """The transport under the credentials: GOOGLE_HTTP() in tests, else httplib2 with a timeout."""
    factory = current_app.config.get("GOOGLE_HTTP") if has_app_context() else None
    if factory is not None:
        return factory()
    import httplib2

    return httplib2.Http(timeout=DEFAULT_TIMEOUT_SECONDS)


def credentials_for(integration, subject):
    """google-auth credentials acting as `subject` (delegation), or as the OAuth user."""
    info = integration.credentials or {}
    if info.get("type") == "oauth":
        from google.oauth2.credentials import Credentials

        return Credentials(
            None,
            refresh_token=info["refresh_token"],
            client_id=info["client_id"],
            client_secret=info["client_secret"],
            token_uri=info.get("token_uri") or TOKEN_URI,
            scopes=SCOPES,
        )
    from google.oauth2 import service_account

    try:
        credentials = service_account.Credentials.from_service_account_info(info["service_account"], scopes=SCOPES)
    except (KeyError, ValueError) as exc:
        raise CredentialsRejected(
            f"The Google service account saved for {domain_of(integration, subject)} is not usable ({exc}): "
            f"{SETTINGS_HINT}",
            code="invalid_credentials",
        ) from None
    return credentials.with_subject(subject) if subject else credentials


def service_for(integration, subject):
    """A Calendar API client for one calendar owner, from the bundled discovery document."""
    import google_auth_httplib2
    from googleapiclient.discovery import build

    # One refresh on a 401 is enough: fresh credentials are made for every job.
    http = google_auth_httplib2.AuthorizedHttp(
        credentials_for(integration, subject), http=_base_http(), max_refresh_attempts=1
    )
    return build("calendar", "v3", http=http, static_discovery=True, cache_discovery=False)


def _error_details(exc):
    """(status, reason, message) of a googleapiclient HttpError."""
    status = int(getattr(exc.resp, "status", 0) or 0)
    reason, message = "", ""
    try:
        body = json.loads(exc.content.decode() if isinstance(exc.content, bytes) else exc.content)
        error = body.get("error") or {}
        if isinstance(error, dict):
            message = error.get("message") or ""
            errors = error.get("errors") or []
            if errors:
                reason = errors[0].get("reason") or ""
    except (ValueError, AttributeError):
        pass
    return status, reason, message


def translate(exc, integration, calendar):
    """A google-auth or googleapiclient exception as a CalendarError a coordinator can act on."""
    from google.auth.exceptions import RefreshError, TransportError
    from googleapiclient.errors import HttpError

    domain = domain_of(integration, calendar)
    if isinstance(exc, RefreshError):
        detail = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
        code = detail.get("error") or str(exc.args[0] if exc.args else exc).split(":", 1)[0]
        if code in REFUSED_GRANTS or not exc.retryable:
            return CredentialsRejected(
                f"Google no longer accepts Docket's credentials for calendars of {domain}: {SETTINGS_HINT}",
                code=code or "invalid_grant",
            )
        return CalendarError(f"Google could not issue a token for {calendar}: {exc}", code="token_unavailable")
    if isinstance(exc, HttpError):
        status, reason, message = _error_details(exc)
        if status == 401:
            return CredentialsRejected(
                f"Google no longer accepts Docket's credentials for calendars of {domain}: {SETTINGS_HINT}",
                code="unauthorized",
            )
        if status == 403 and reason not in RATE_LIMIT_REASONS:
            return CredentialsRejected(
                f"Google refuses Docket access to the calendar of {calendar} ({reason or 'forbidden'}): "
                f"check the service account's domain-wide delegation for {domain}, then {SETTINGS_HINT}",
                code=reason or "forbidden",
            )
        if status == 410:
            return CursorExpired(message or "gone", code=reason or "gone")
        if status == 404:
            return CalendarError(message or "not found", code="not_found")
        return CalendarError(
            f"Google Calendar answered {status} for {calendar}: {message or reason}", code=f"http_{status}"
        )
    if isinstance(exc, TransportError | OSError):
        return CalendarError(f"Google Calendar could not be reached: {exc}", code="unreachable")
    return None


# Google asks clients to back off exponentially on 429 and on 403 rateLimitExceeded /
# userRateLimitExceeded (a quota for the day will not come back in seconds: not retried).
BACKOFF_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
RATE_LIMIT_RETRIES = 4


def _sleep(seconds):
    configured = current_app.config.get("GOOGLE_SLEEP") if has_app_context() else None
    (configured or time.sleep)(seconds)


def _rate_limited(exc):
    from googleapiclient.errors import HttpError

    if not isinstance(exc, HttpError):
        return False
    status, reason, _ = _error_details(exc)
    return status == 429 or (status == 403 and reason in BACKOFF_REASONS)


def _call(integration, calendar, request):
    """Execute a request, backing off as Google asks while it is rate limited (1, 2, 4, 8 s and
    a random part), and translating Google's failures into CalendarErrors."""
    try:
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            try:
                return request.execute()
            except Exception as exc:
                if attempt == RATE_LIMIT_RETRIES or not _rate_limited(exc):
                    raise
                wait = 2**attempt + random.random()
                log.info("Google Calendar rate limited %s: waiting %.1fs", calendar, wait)
                _sleep(wait)
    except Exception as exc:
        error = translate(exc, integration, calendar)
        if error is None:
            raise
        raise error from exc


def event_body(event: CalendarEvent):
    """Google's event resource for a Docket calendar event: invitees as attendees, the room as a resource."""
    attendees = []
    for invitee in event.invitees:
        attendee = {"email": invitee.email}
        if invitee.name:
            attendee["displayName"] = invitee.name
        if invitee.kind == "room":
            attendee["resource"] = True
        attendees.append(attendee)
    body = {
        "summary": event.title,
        "description": event.description,
        "start": {"dateTime": to_utc(event.starts_at).isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": to_utc(event.ends_at).isoformat(), "timeZone": "UTC"},
        "attendees": attendees,
        "guestsCanModify": False,
        "extendedProperties": {
            "private": {"docketSchedule": event.schedule_id, "docketInterview": event.scheduled_interview_id}
        },
    }
    if event.location:
        body["location"] = event.location
    return body


class GoogleCalendar:
    """The calendar port on Google Calendar: events live on the organizer's calendar."""

    def __init__(self, integration: Integration):
        self.integration = integration

    def _service(self, organizer):
        return service_for(self.integration, organizer)

    def _guarded(self, organizer, request_of):
        with refusals_reported(self.integration):
            return _call(self.integration, organizer, request_of(self._service(organizer)))

    def create_event(self, event: CalendarEvent) -> str:
        created = self._guarded(
            event.organizer,
            lambda s: s.events().insert(calendarId=event.organizer, body=event_body(event), sendUpdates="all"),
        )
        CalendarWatch.calendar_in_use(self.integration, event.organizer)
        return created["id"]

    def update_event(self, event_id: str, event: CalendarEvent) -> None:
        self._guarded(
            event.organizer,
            lambda s: s.events().patch(
                calendarId=event.organizer, eventId=event_id, body=event_body(event), sendUpdates="all"
            ),
        )

    def cancel_event(self, event_id: str, organizer: str) -> None:
        try:
            self._guarded(
                organizer, lambda s: s.events().delete(calendarId=organizer, eventId=event_id, sendUpdates="all")
            )
        except CursorExpired:
            pass  # 410 Gone: already deleted, which is what was asked


# -- Watching and syncing -----------------------------------------------------------------------


def _answers(item):
    answers = []
    for attendee in item.get("attendees") or []:
        email = (attendee.get("email") or "").strip().lower()
        response = RESPONSES.get(attendee.get("responseStatus"))
        if email and response:
            answers.append(AttendeeAnswer(email, attendee.get("displayName") or "", response))
    return tuple(answers)


def changes(integration, calendar, cursor, window_start=None):
    """Events changed on a calendar since `cursor` (a sync token; None: everything from window_start).

    Returns (changes, next sync token); raises CursorExpired when Google wants a full sync (410).
    """
    service = service_for(integration, calendar)
    found, page_token = [], None
    while True:
        params = {"calendarId": calendar, "showDeleted": True, "maxResults": 250}
        if cursor:
            params["syncToken"] = cursor
        else:
            params["timeMin"] = (window_start or dt.datetime.now(dt.UTC)).isoformat()
        if page_token:
            params["pageToken"] = page_token
        page = _call(integration, calendar, service.events().list(**params))
        for item in page.get("items") or []:
            found.append(
                EventChange(
                    event_id=item["id"],
                    occurred_at=item.get("updated") or dt.datetime.now(dt.UTC).isoformat(),
                    cancelled=item.get("status") == "cancelled",
                    answers=_answers(item),
                )
            )
        page_token = page.get("nextPageToken")
        if not page_token:
            return found, page.get("nextSyncToken")


def watch(integration, calendar, channel_id, token, address, ttl_seconds):
    """Open a push channel on the calendar's events; Google echoes `token` in every notification."""
    service = service_for(integration, calendar)
    body = {
        "id": channel_id,
        "type": "web_hook",
        "address": address,
        "token": token,
        "params": {"ttl": str(int(ttl_seconds))},
    }
    channel = _call(integration, calendar, service.events().watch(calendarId=calendar, body=body))
    expiration = channel.get("expiration")
    expires_at = (
        dt.datetime.fromtimestamp(int(expiration) / 1000, dt.UTC)
        if expiration
        else dt.datetime.now(dt.UTC) + dt.timedelta(seconds=ttl_seconds)
    )
    return Watch(channel_id=channel["id"], expires_at=expires_at, resource_id=channel.get("resourceId"))


def probe(integration):
    """Prove the credentials work with one cheap call (one event listed); False when there is no
    calendar to ask: a service account needs a person of the domain to act as."""
    calendar = "primary" if (integration.credentials or {}).get("type") == "oauth" else integration.owner_email
    if not calendar:
        return False
    service = service_for(integration, None if calendar == "primary" else calendar)
    _call(integration, calendar, service.events().list(calendarId=calendar, maxResults=1))
    return True


def stop(integration, calendar, channel_id, resource_id):
    """Stop a channel; one Google no longer knows is stopped already."""
    service = service_for(integration, calendar)
    try:
        _call(integration, calendar, service.channels().stop(body={"id": channel_id, "resourceId": resource_id}))
    except CalendarError as exc:
        if exc.code != "not_found":
            raise


PROVIDERS["google"] = GoogleCalendar
