"""Vendor webhooks: verify, store in the inbox, acknowledge (built in Step 3)."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
