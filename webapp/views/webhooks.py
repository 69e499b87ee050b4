"""Vendor webhooks: verify the signature over the raw body, store in the inbox, acknowledge.

Processing happens later in a worker, so the vendor gets its 200 in milliseconds.
"""

from flask import Blueprint, jsonify

from ..integrations.base import VENDORS, SignatureError
from ..models import Account, Integration
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
    account = Account.get_or_none(Account.webhook_key == key) if vendor else None
    integration = Integration.of(account, provider) if account else None
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
        account, provider, vendor.event_id(request.headers, body, payload), payload, type=vendor.action(payload)
    )
    return _answer(200, ok=True, event=row.id, duplicate=not created)
