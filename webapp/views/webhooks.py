"""Vendor webhooks: verify the signature over the raw body, store in the inbox, acknowledge.

Processing happens later in a worker, so the vendor gets its 200 in milliseconds.
"""

import logging

from flask import Blueprint

from ..db import database, prebuilt_sql
from ..inbound import InboundError, check_id, read_json
from ..inbox import accept
from ..integrations import claim_key
from ..integrations.base import VENDORS, SignatureError
from ..models import Account, Integration
from .errors import json_answer

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
# Signature-verified, and no session cookie's authority: nothing for CSRF to forge.
CSRF_EXEMPT = True


def _instance(model, values):
    """A model instance from a row's next columns, in the order `select(model)` lists them."""
    instance = model(**{f.name: f.python_value(next(values)) for f in model._meta.sorted_fields})
    instance._dirty.clear()
    return instance


def integration_for(provider, key):
    """Integration.for_webhook with the integration's account loaded too, in one query whose
    statement is built once: every delivery asks it, and peewee takes longer to write the query
    (and then the account's, when the view reads it) than the database takes to answer."""
    sql = prebuilt_sql(
        "webhook_integration",
        lambda: (
            Integration.select(Integration, Account)
            .join(Account)
            .where(Account.webhook_key == "", Integration.provider == "")
            .limit(1)
        ),
    )
    row = database.execute_sql(sql, (key, provider, 1)).fetchone()
    if row is None:
        return None
    values = iter(row)
    integration = _instance(Integration, values)
    integration.account = _instance(Account, values)
    return integration


@bp.post("/<provider>/<key>")
def receive(provider, key):
    """Receive one delivery from an ATS for the account whose webhook key is in the URL."""
    from flask import request

    vendor = VENDORS.get(provider)
    integration = integration_for(provider, key) if vendor else None
    if integration is None:
        return json_answer(404, error="not_found", message="no such webhook")
    # Read before verifying: a body over MAX_CONTENT_LENGTH is refused here with a 413.
    body = request.get_data(cache=True)
    try:
        # The signature first, then the body (a vendor that signs inside the body, as Lever does,
        # reads it with the same bounded parser).
        vendor.verify(request.headers, body, integration)
        payload = vendor.parse(body)
        if not isinstance(payload, dict):
            raise InboundError(f"a {provider} webhook's body must be a JSON object", "bad_json", "(body)")
        event_id = check_id(vendor.event_id(request.headers, body, payload), "the delivery's id")
        action = check_id(vendor.action(payload), "the delivery's action")
        if vendor.is_ping(payload):
            return json_answer(200, ok=True, ping=True)
        vendor.check(payload)
    except SignatureError as exc:
        return json_answer(401, error="bad_signature", message=str(exc))
    except InboundError as exc:
        return json_answer(400, error=exc.error, message=exc.message)
    claimed = claim_key(provider, event_id, payload, integration.account_id)
    row, created = accept(integration.account, provider, event_id, payload, type=action, claim_key=claimed)
    return json_answer(200, ok=True, event=row.id, duplicate=not created)


# -- Calendars: Google push channels, Microsoft Graph subscriptions ------------------------------


@bp.post("/google/<key>")
def google(key):
    """Google Calendar push notification: check the channel token, answer at once, sync later."""
    from flask import request

    from ..calendars.sync import request_sync
    from ..models import CalendarWatch

    integration = Integration.for_webhook("google", key)
    if integration is None:
        return json_answer(404, error="not_found", message="no such webhook")
    watch = CalendarWatch.by_channel(integration, request.headers.get("X-Goog-Channel-ID"))
    if watch is None or not watch.token_matches(request.headers.get("X-Goog-Channel-Token")):
        return json_answer(401, error="bad_channel", message="unknown channel or wrong channel token")
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

    payload = read_json(request.get_data(cache=True))
    notifications = payload.get("value") if isinstance(payload, dict) else None
    if not isinstance(notifications, list):
        raise InboundError("a Graph notification body is an object whose 'value' is a list", "bad_json", "value")
    matched = []
    for notification in notifications:
        if not isinstance(notification, dict):
            continue
        channel, state = notification.get("subscriptionId"), notification.get("clientState")
        if not isinstance(channel, str) or not isinstance(state, str):
            continue
        watch = CalendarWatch.by_channel(integration, channel)
        if watch is not None and watch.token_matches(state):
            matched.append((watch, notification))
    return matched


def _dropped(integration):
    """No notification of the batch names a subscription with its clientState: acknowledged and
    dropped (Graph retries anything else for hours), and logged for whoever looks."""
    log.warning(
        "Graph notifications for integration %s name no known subscription and clientState; dropped", integration.id
    )
    return "", 202


def _graph_delivery(key):
    """A Graph delivery as (None, integration, matched notifications), or (the answer to send, None,
    None): the validation handshake, an unknown webhook, a malformed body, or nothing matched."""
    handshake = _graph_validation()
    if handshake is not None:
        return handshake, None, None
    integration = Integration.for_webhook("microsoft", key)
    if integration is None:
        return json_answer(404, error="not_found", message="no such webhook"), None, None
    try:
        matched = _graph_notifications(integration)
    except InboundError as exc:
        return json_answer(400, error=exc.error, message=exc.message), None, None
    if not matched:
        return _dropped(integration), None, None
    return None, integration, matched


@bp.post("/microsoft/<key>")
def microsoft(key):
    """Microsoft Graph change notifications: the validation handshake, or notifications checked
    against their subscription's clientState, acknowledged with 202 and synced later."""
    from ..calendars.sync import request_sync

    answer, _, matched = _graph_delivery(key)
    if answer is not None:
        return answer
    for watch in {w.id: w for w, _ in matched}.values():
        request_sync(watch)
    return "", 202


@bp.post("/microsoft/<key>/lifecycle")
def microsoft_lifecycle(key):
    """Graph lifecycle notifications: reauthorize, re-subscribe, or resync what was missed."""
    from ..calendars.sync import request_maintenance, request_sync
    from ..models import CalendarWatch, utcnow

    answer, integration, matched = _graph_delivery(key)
    if answer is not None:
        return answer
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
