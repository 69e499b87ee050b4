"""Sign-in and sign-out pages (built in Step 2)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
