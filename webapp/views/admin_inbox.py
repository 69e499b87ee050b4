"""The admin page for the event inbox: recent events with the tasks they touched, failed ones with
their error and a Retry button, and "Explain" for any event."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from .. import rulebook
from ..htmx import page_or_fragment
from ..models import Event, TaskHistory
from ..pipeline import retry_failed
from ..security import safe_next

bp = Blueprint("admin_inbox", __name__, url_prefix="/admin/inbox")

PAGE_SIZE = 50
STATUSES = (Event.PENDING, Event.PROCESSED, Event.INCOMPLETE, Event.FAILED, Event.IGNORED)


@bp.before_request
@login_required
def _admins_only():
    if not current_user.is_admin:
        abort(403)


def _event_or_404(event_id):
    row = Event.of_account(current_user.account_id, event_id)
    if row is None:
        abort(404)
    return row


@bp.get("")
def index():
    """The account's most recent inbox rows, newest first (?status=failed, ?before=ID to page back)."""
    shown = request.args.get("status") if request.args.get("status") in STATUSES else None
    before = request.args.get("before", type=int)
    rows = Event.recent(current_user.account_id, shown, before, PAGE_SIZE)
    return page_or_fragment(
        "admin/inbox.html",
        "rows",
        rows=rows,
        touched=TaskHistory.touched_by([row.id for row in rows]),
        counts=Event.counts(current_user.account_id),
        shown_status=shown,  # not `status`: that is the HTTP status page_or_fragment answers with
        statuses=STATUSES,
        older=rows[-1].id if len(rows) == PAGE_SIZE else None,
    )


@bp.get("/<int:event_id>")
def explain(event_id):
    """One event: its payload, the tasks it touched, and what each rule makes of it now."""
    row = _event_or_404(event_id)
    explained, error = rulebook.explain_row(current_user.account_id, row)
    return page_or_fragment(
        "admin/inbox_event.html",
        "explain",
        row=row,
        explained=explained,
        error=error,
        touched=TaskHistory.touched_by([row.id]).get(row.id, []),
        label=rulebook.in_force(current_user.account_id).label,
    )


@bp.post("/<int:event_id>/retry")
def retry(event_id):
    """Put a failed event back in the inbox with a fresh set of attempts."""
    row = _event_or_404(event_id)
    if retry_failed(current_user.account_id, [row.id]):
        flash(f"Event {row.id} queued again.", "success")
    else:
        flash(f"Event {row.id} has not failed; nothing to retry.", "error")
    return redirect(safe_next(request.form.get("next"), url_for(".index")), 303)


@bp.post("/retry")
def retry_all():
    """Put every failed event of the account back in the inbox."""
    count = retry_failed(current_user.account_id)
    flash(f"{count} failed event(s) queued again.", "success")
    return redirect(url_for(".index"), 303)
