"""The coordinator's task list (built in Step 2)."""

from flask import Blueprint

bp = Blueprint("tasks", __name__)
