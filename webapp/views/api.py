"""The JSON API: events in, tasks out, and the health of the pipeline (Bearer token auth)."""

import base64
import binascii
import datetime as dt
import json

from flask import Blueprint, abort, current_app, g, jsonify, request, url_for

from .. import live, snoozing
from ..auth import token_required
from ..db import database
from ..envelope import EnvelopeError, validate
from ..inbound import InboundError, read_object
from ..inbox import accept
from ..models import UNASSIGNED, AlreadyOpen, Event, Task, User, utcnow
from ..queue import get_queue, redis_connection
from ..rulebook import rulebook_for
from .errors import json_error
from .team import figures_of, team_json

bp = Blueprint("api", __name__, url_prefix="/api")
# Token-authenticated (auth.token_required), never by the session cookie: nothing for CSRF to forge.
CSRF_EXEMPT = True
DEFAULT_PAGE_SIZE = 50
STATUSES = ("open", "snoozed", "completed", "dismissed", "all")
MAX_PAGE_SIZE = 200


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def _person(user):
    return {"email": user.email, "name": user.name} if user else None


def _wake_on(task):
    """The event types that wake a task snoozed until an event (its rule's wake_on), else None."""
    if task.status != Task.SNOOZED or task.snoozed_until is not None:
        return None
    if "rulebook" not in g:
        g.rulebook = rulebook_for(task.account_id)
    rule = g.rulebook.rule(task.rule_id)
    return sorted({etype for entry in rule.wake_on for etype in entry.events}) if rule else []


def task_json(task):
    """A task as the API gives it."""
    if task.completed_by_user_id:
        completed_by = {"kind": "user", **_person(task.completed_by_user)}
    elif task.completed_by_event_id:
        completed_by = {"kind": "event", "event_id": task.completed_by_event_id, "reason": task.completion_reason}
    else:
        completed_by = None
    return {
        "id": task.id,
        "rule": task.rule_id,
        "category": task.category,
        "title": task.title,
        "recommended_action": task.recommended_action,
        "assignee": _person(task.assignee) if task.assignee_id else None,
        "covering_for": _person(task.covering_for) if task.covering_for_id else None,
        "priority": task.priority,
        "status": task.status,
        "created_at": _iso(task.created_at),
        "due_at": _iso(task.due_at),
        "waiting_since": _iso(task.waiting_since),
        "completed_at": _iso(task.completed_at),
        "completed_by": completed_by,
        "snoozed_until": _iso(task.snoozed_until),
        "wake_on": _wake_on(task),
        "dismissed": {"reason": task.dismiss_reason, "label": task.dismissed, "note": task.dismiss_note}
        if task.dismiss_reason
        else None,
        "about": task.subjects,
        "key": task.key_values,
    }


@bp.errorhandler(401)
def _unauthorized(exc):
    response = json_error(401, "unauthorized", "a valid Bearer token is required")
    response.headers["WWW-Authenticate"] = 'Bearer realm="docket"'
    return response


@bp.errorhandler(404)
def _not_found(exc):
    return json_error(404, "not_found", "no such resource in your account")


@bp.errorhandler(405)
def _not_allowed(exc):
    return json_error(405, "method_not_allowed", str(exc.description))


@bp.errorhandler(413)
def _too_large(exc):
    return json_error(413, "too_large", "the body is larger than 1 MiB")


@bp.post("/events")
@token_required
def post_event():
    """Accept an event envelope into the inbox: 202 when new, 200 when a repeat."""
    try:
        envelope = validate(read_object(request.get_data(cache=True)), source="api")
    except InboundError as exc:
        return json_error(400, "invalid_event", exc.message, field=exc.field or "(body)")
    except EnvelopeError as exc:
        return json_error(400, "invalid_event", exc.message, field=exc.field)
    row, created = accept(
        g.account, "api", envelope["id"], envelope, type=envelope["type"], occurred_at=envelope["occurred_at"]
    )
    body = {"id": row.id, "status": row.status, "duplicate": not created}
    return jsonify(body), 202 if created else 200


def encode_cursor(sort_key):
    """An opaque cursor for the page after the task with this Task.sort_key: base64 JSON."""
    status, due_at, rank, created_at, task_id = sort_key
    due = due_at.isoformat() if due_at else None
    raw = json.dumps([status, due, rank, created_at.isoformat(), task_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor):
    """The Task.sort_key a cursor names; ValueError when it is not one that encode_cursor made."""
    try:
        status, due, rank, created_at, task_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        due_at = None if due is None else dt.datetime.fromisoformat(due)
        sort_key = (status, due_at, rank, dt.datetime.fromisoformat(created_at), task_id)
    except (binascii.Error, UnicodeDecodeError, TypeError, ValueError):
        raise ValueError("not a cursor this API gave") from None
    whole = all(type(n) is int and abs(n) < 2**63 for n in (rank, task_id))
    if status not in (Task.OPEN, Task.SNOOZED, Task.COMPLETED) or not whole:
        raise ValueError("not a cursor this API gave")
    return sort_key


def _page_size(value):
    """The `limit` parameter: a whole number from 1 to MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE when absent."""
    if value is None:
        return DEFAULT_PAGE_SIZE
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(value)


@bp.get("/tasks")
@token_required
def list_tasks():
    """A page of the account's tasks: ?assignee=me|EMAIL|all|unassigned,
    ?status=open|snoozed|completed|dismissed|all,
    ?category=RULE_ID, ?limit=1..200 and the ?cursor of the previous page's `next` link."""
    who = request.args.get("assignee", "me")
    status = request.args.get("status", "open")
    category = request.args.get("category") or None
    if status not in STATUSES:
        return json_error(400, "invalid_parameter", f"status must be {', '.join(STATUSES[:-1])} or all", field="status")
    try:
        limit = _page_size(request.args.get("limit"))
    except ValueError as exc:
        return json_error(400, "invalid_parameter", str(exc), field="limit")
    cursor = request.args.get("cursor")
    try:
        after = decode_cursor(cursor) if cursor else None
    except ValueError as exc:
        return json_error(400, "invalid_parameter", str(exc), field="cursor")
    if who == "me":
        assignee = g.user
    elif who == "all":
        assignee = None
    elif who == UNASSIGNED:
        assignee = UNASSIGNED
    else:
        assignee = User.get_or_none(User.account == g.account, User.email == who.strip().lower())
        if assignee is None:
            return json_error(404, "not_found", f"no coordinator {who} in your account", field="assignee")
    tasks, more = Task.listing(g.account, assignee, status, category, after=after, limit=limit)
    next_url = None
    if more:
        asked = {name: request.args[name] for name in ("assignee", "status", "category") if name in request.args}
        next_url = url_for(
            "api.list_tasks", **asked, limit=limit, cursor=encode_cursor(tasks[-1].sort_key), _external=True
        )
    response = jsonify(tasks=[task_json(t) for t in tasks], next=next_url)
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


@bp.get("/tasks/<int:task_id>")
@token_required
def get_task(task_id):
    """One task of the account."""
    task = Task.of_account(g.account, task_id) or abort(404)
    return jsonify(task_json(task))


@bp.post("/tasks/<int:task_id>/complete")
@token_required
def complete_task(task_id):
    """Complete a task by hand."""
    task = Task.of_account(g.account, task_id) or abort(404)
    task.complete_by(g.user)
    live.publish_changes([g.account.id])
    return jsonify(task_json(Task.of_account(g.account, task_id)))


@bp.post("/tasks/<int:task_id>/reopen")
@token_required
def reopen_task(task_id):
    """Reopen a completed task."""
    task = Task.of_account(g.account, task_id) or abort(404)
    try:
        task.reopen_by(g.user)
    except AlreadyOpen as exc:
        other = exc.task.id if exc.task else None
        return json_error(409, "already_open", f"task {other} is open for the same work", task=other)
    live.publish_changes([g.account.id])
    return jsonify(task_json(Task.of_account(g.account, task_id)))


def _body():
    """The parameters of a POST: its JSON object, else its form."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else request.form


@bp.post("/tasks/<int:task_id>/snooze")
@token_required
def snooze_task(task_id):
    """Snooze a task: until=ISO-8601 time with its offset (or Z), or until=event (for a rule with a wake_on)."""
    task = Task.of_account(g.account, task_id) or abort(404)
    value = _body().get("until")
    if value == snoozing.UNTIL_EVENT:
        rule = rulebook_for(g.account.id).rule(task.rule_id)
        if rule is None or not rule.wake_on:
            return json_error(400, "invalid_parameter", "no event wakes this task's rule", field="until")
        until = None
    else:
        try:
            until = snoozing.check(dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")), utcnow())
        except (TypeError, ValueError) as exc:
            message = str(exc) if value else "until is required: an ISO-8601 time or event"
            return json_error(400, "invalid_parameter", message, field="until")
    if not task.snooze_by(g.user, until, note=f"until {_iso(until)}" if until else "until an event wakes it"):
        return json_error(409, "completed", "a completed task cannot be snoozed; reopen it first")
    live.publish_changes([g.account.id])
    return jsonify(task_json(Task.of_account(g.account, task_id)))


@bp.post("/tasks/<int:task_id>/wake")
@token_required
def wake_task(task_id):
    """End a task's snooze now; a task not snoozed is left as it is."""
    task = Task.of_account(g.account, task_id) or abort(404)
    if task.wake_by(g.user):
        live.publish_changes([g.account.id])
    return jsonify(task_json(Task.of_account(g.account, task_id)))


@bp.post("/tasks/<int:task_id>/dismiss")
@token_required
def dismiss_task(task_id):
    """Dismiss a task: reason (duplicate, handled_outside, not_needed or other) and an optional note."""
    task = Task.of_account(g.account, task_id) or abort(404)
    body = _body()
    reason, note = body.get("reason"), body.get("note") or ""
    if reason not in Task.DISMISS_REASONS:
        reasons = ", ".join(Task.DISMISS_REASONS)
        return json_error(400, "invalid_parameter", f"reason must be one of {reasons}", field="reason")
    if not isinstance(note, str) or len(note) > 500:
        return json_error(400, "invalid_parameter", "note must be text of at most 500 characters", field="note")
    if not task.dismiss_by(g.user, reason, note):
        return json_error(409, "completed", "the task is completed already")
    live.publish_changes([g.account.id])
    return jsonify(task_json(Task.of_account(g.account, task_id)))


@bp.get("/team")
@token_required
def team():
    """The Team page's figures (see /team), days in the token's person's time zone."""
    return jsonify(team_json(figures_of(g.account, g.user)))


@bp.get("/health")
def health():
    """Database, Redis, live workers; with a token, the account's pending and failed inbox counts."""
    report = {"database": "ok", "redis": "ok", "workers": 0}
    healthy = True
    try:
        database.execute_sql("SELECT 1")
    except Exception as exc:  # report, do not crash: this is what health checks are for
        report["database"] = f"error: {exc}"
        healthy = False
    try:
        from rq import Worker

        conn = redis_connection()
        conn.ping()
        report["workers"] = len(Worker.all(queue=get_queue(conn)))
    except Exception as exc:
        report["redis"] = f"error: {exc}"
        healthy = False
    from ..auth import _bearer_user

    user = _bearer_user() if report["database"] == "ok" else None
    if user is not None:
        counts = Event.counts(user.account)
        report["inbox"] = {"pending": counts.get(Event.PENDING, 0), "failed": counts.get(Event.FAILED, 0)}
    report["status"] = "ok" if healthy and report["workers"] > 0 else "degraded"
    current_app.logger.debug("health: %s", report)
    return jsonify(report), 200 if healthy else 503
