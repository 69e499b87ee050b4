"""Vendor webhooks: verify the signature over the raw body, store in the inbox, acknowledge.

Processing happens later in a worker, so the vendor gets its 200 in milliseconds.
"""

from flask import Blueprint, jsonify

from ..integrations.base import VENDORS, SignatureError
from ..models import Integration
from ..pipeline import accept

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _answer(status, **body):
    response = jsonify(**body)
    response.status_code = status
    return response


@bp.post("/<provider>/<key>")
def receive(provider, key):
    """Receive one delivery from an ATS for the account whose webhook key is in the URL."""
    from flask import request

    vendor = VENDORS.get(provider)
    integration = Integration.for_webhook(provider, key) if vendor else None
    if integration is None:
        return _answer(404, error="not_found", message="no such webhook")
    # Read before verifying: a body over MAX_CONTENT_LENGTH is refused here with a 413.
    body = request.get_data(cache=True)
    try:
        vendor.verify(request.headers, body, integration)
        payload = vendor.parse(body)
    except SignatureError as exc:
        return _answer(401, error="bad_signature", message=str(exc))
    except ValueError:
        return _answer(400, error="bad_json", message="the body is not JSON")
    if vendor.is_ping(payload):
        return _answer(200, ok=True, ping=True)
    row, created = accept(
        integration.account,
        provider,
        vendor.event_id(request.headers, body, payload),
        payload,
        type=vendor.action(payload),
    )
    return _answer(200, ok=True, event=row.id, duplicate=not created)


# -- Calendars: Google push channels, Microsoft Graph subscriptions ------------------------------


@bp.post("/google/<key>")
def google(key):
    """Google Calendar push notification: check the channel token, answer at once, sync later."""
    from flask import request

    from ..calendars.sync import request_sync
    from ..models import CalendarWatch

    integration = Integration.for_webhook("google", key)
    if integration is None:
        return _answer(404, error="not_found", message="no such webhook")
    watch = CalendarWatch.by_channel(integration, request.headers.get("X-Goog-Channel-ID"))
    if watch is None or not watch.token_matches(request.headers.get("X-Goog-Channel-Token")):
        return _answer(401, error="bad_channel", message="unknown channel or wrong channel token")
    # "sync" only says the channel is open; "exists" / "not_exists": something changed.
    if request.headers.get("X-Goog-Resource-State") != "sync":
        request_sync(watch)
    return "", 200


def _graph_validation():
    """Graph's handshake: echo the validationToken, as text/plain, at once."""
    from flask import request

    token = request.args.get("validationToken")
    if token is None:
        return None
    return token, 200, {"Content-Type": "text/plain; charset=utf-8"}


def _graph_notifications(integration):
    """Graph's notifications whose clientState matches the watch they name: [(watch, notification)]."""
    from flask import request

    from ..models import CalendarWatch

    payload = request.get_json(silent=True) or {}
    matched = []
    for notification in payload.get("value") or []:
        if not isinstance(notification, dict):
            continue
        watch = CalendarWatch.by_channel(integration, notification.get("subscriptionId"))
        if watch is not None and watch.token_matches(notification.get("clientState")):
            matched.append((watch, notification))
    return matched


@bp.post("/microsoft/<key>")
def microsoft(key):
    """Microsoft Graph change notifications: the validation handshake, or notifications checked
    against their subscription's clientState, acknowledged with 202 and synced later."""
    from ..calendars.sync import request_sync

    handshake = _graph_validation()
    if handshake is not None:
        return handshake
    integration = Integration.for_webhook("microsoft", key)
    if integration is None:
        return _answer(404, error="not_found", message="no such webhook")
    matched = _graph_notifications(integration)
    if not matched:
        return _answer(401, error="bad_client_state", message="no notification with a known clientState")
    for watch in {w.id: w for w, _ in matched}.values():
        request_sync(watch)
    return "", 202


@bp.post("/microsoft/<key>/lifecycle")
def microsoft_lifecycle(key):
    """Graph lifecycle notifications: reauthorize, re-subscribe, or resync what was missed."""
    from ..calendars.sync import request_maintenance, request_sync
    from ..models import CalendarWatch, utcnow

    handshake = _graph_validation()
    if handshake is not None:
        return handshake
    integration = Integration.for_webhook("microsoft", key)
    if integration is None:
        return _answer(404, error="not_found", message="no such webhook")
    matched = _graph_notifications(integration)
    if not matched:
        return _answer(401, error="bad_client_state", message="no notification with a known clientState")
    for watch, notification in matched:
        event = notification.get("lifecycleEvent")
        if event == "reauthorizationRequired":
            # Renewing the subscription reauthorizes it: make it due now.
            CalendarWatch.update(expires_at=utcnow()).where(CalendarWatch.id == watch.id).execute()
            request_maintenance(integration)
        elif event == "subscriptionRemoved":
            # A new subscription is needed; the delta link catches what changed meanwhile.
            CalendarWatch.update(status=CalendarWatch.REMOVED).where(CalendarWatch.id == watch.id).execute()
            request_maintenance(integration)
        elif event == "missed":
            request_sync(watch)
    return "", 202
