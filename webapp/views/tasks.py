"""The coordinator's task list: filters, inline completion and undo, live updates, task detail."""

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from urllib.parse import urlencode

import redis
from flask import Blueprint, Response, abort, current_app, flash, g, redirect, request, url_for
from flask_login import current_user, login_required

from .. import live, snoozing
from ..htmx import is_fragment_request, page_or_fragment, redirect_or_fragment, render_block
from ..models import UNASSIGNED, AlreadyOpen, Candidate, Event, Task, TaskHistory, User, to_utc, utcnow
from ..row_events import enriched_events
from ..rulebook import rulebook_for, rulebook_of_version
from ..timezones import current_zone, localtime
from . import links

bp = Blueprint("tasks", __name__)
log = logging.getLogger(__name__)

# Completed tasks shown under "Show completed": the most recent ones, not a whole archive.
COMPLETED_SHOWN = 50
# Snoozed tasks shown under "Show snoozed".
SNOOZED_SHOWN = 200
# A dismissal's note is a line or two, not a document.
DISMISS_NOTE_MAX = 500
# Open tasks drawn at first, the most urgent; "Show more" draws this many more each time.
OPEN_SHOWN_STEP = 50
OPEN_SHOWN_MAX = 5000
# Tasks changed by one bulk action at most: its Undo carries their ids (in the session's cookie
# when the browser has no JavaScript), so a batch must stay small enough for a cookie.
BULK_MAX = 200
# The list's density, remembered per browser: one line per task, or the roomier rows.
DENSITY_COOKIE = "docket_density"
DENSITIES = ("compact", "comfortable")


# The "Assigned to" choices besides a person: everyone's tasks, and those nobody is named for.
EVERYONE = "all"


@dataclass(frozen=True)
class ListFilters:
    """What the list shows: whose tasks (a User, UNASSIGNED, or None for everyone's), which
    category, and whether completed ones too, and snoozed ones."""

    assignee: User | str | None
    category: str | None
    completed: bool
    shown: int = OPEN_SHOWN_STEP  # how many open tasks are drawn
    me: User | None = None
    snoozed: bool = False

    @classmethod
    def parse(cls, values, coordinators, me):
        """Filters from a query string or form; an unknown coordinator is a 404."""
        email = (values.get("assignee") or "").strip().lower()
        assignee = me
        if email == EVERYONE:
            assignee = None
        elif email == UNASSIGNED:
            assignee = UNASSIGNED
        elif email and email != me.email:
            assignee = next((u for u in coordinators if u.email == email), None) or abort(404)
        category = (values.get("category") or "").strip() or None
        shown = str(values.get("shown") or "").strip()
        shown = min(max(int(shown), OPEN_SHOWN_STEP), OPEN_SHOWN_MAX) if shown.isdigit() else OPEN_SHOWN_STEP
        completed, snoozed = (values.get(name) in ("1", "on", "true") for name in ("completed", "snoozed"))
        return cls(assignee, category, completed, shown, me, snoozed)

    @property
    def person(self):
        """The one coordinator whose list this is, or None for everyone's or the unassigned tasks."""
        return self.assignee if isinstance(self.assignee, User) else None

    @property
    def assignee_value(self):
        """The `assignee` parameter that names this list."""
        if self.assignee is None:
            return EVERYONE
        return self.person.email if self.person else UNASSIGNED

    @property
    def mine(self):
        return self.person is not None and self.me is not None and self.person.id == self.me.id

    @property
    def covering(self):
        """A colleague's own list: what the signed-in user completes there is on their behalf."""
        return self.person is not None and not self.mine

    @property
    def heading(self):
        if self.mine:
            return "My tasks"
        if self.person is not None:
            return f"{self.person.display_name}’s tasks"
        return "Everyone’s tasks" if self.assignee is None else "Unassigned tasks"

    def params(self, **changes):
        """The query string's parameters, with some changed (None drops one)."""
        values = {
            "assignee": self.assignee_value,
            "category": self.category,
            "completed": "1" if self.completed else None,
            "snoozed": "1" if self.snoozed else None,
            "shown": str(self.shown) if self.shown != OPEN_SHOWN_STEP else None,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v}

    def url(self, endpoint="tasks.index", **changes):
        return url_for(endpoint, **self.params(**changes))


class TaskUrls:
    """The URLs of a task's pages and actions, each built with url_for once per page, not once per row."""

    MARKER = 987654321

    def __init__(self):
        self._templates = {
            name: url_for(f"tasks.{name}", task_id=self.MARKER).replace(str(self.MARKER), "{}")
            for name in ("detail", "complete", "reopen", "snooze", "dismiss", "wake")
        }

    def detail(self, task_id):
        return self._templates["detail"].format(task_id)

    def complete(self, task_id):
        return self._templates["complete"].format(task_id)

    def reopen(self, task_id):
        return self._templates["reopen"].format(task_id)

    def snooze(self, task_id):
        return self._templates["snooze"].format(task_id)

    def dismiss(self, task_id):
        return self._templates["dismiss"].format(task_id)

    def wake(self, task_id):
        return self._templates["wake"].format(task_id)


def _later():
    """What the snooze and dismiss controls offer, worked out once per page: the menu's times in the
    signed-in person's zone, the rules whose tasks can sleep until an event, the dismiss reasons."""
    return {
        "choices": snoozing.choices(utcnow(), current_zone()),
        "waking": {rule.id for rule in _rulebook().rules if rule.wake_on},
        "reasons": Task.DISMISS_REASONS,
    }


def _rulebook():
    """The rulebook in force for the signed-in user's account, looked up once per request."""
    if "rulebook" not in g:
        # A session's user is loaded with the account's newest rulebook version (User.signed_in).
        version = getattr(current_user, "rulebook_version_id", _UNKNOWN)
        account = current_user.account_id
        g.rulebook = rulebook_for(account) if version is _UNKNOWN else rulebook_of_version(account, version)
    return g.rulebook


_UNKNOWN = object()


def _coordinators():
    return User.coordinators_of(current_user.account_id)


def _categories(counts):
    """Every category of the rulebook with its open count, then any retired rule that still has tasks."""
    rules = _rulebook().rules
    known = {rule.id for rule in rules}
    categories = [{"id": rule.id, "name": rule.category, "count": counts.get(rule.id, (None, 0))[1]} for rule in rules]
    categories += [
        {"id": rule_id, "name": name, "count": n} for rule_id, (name, n, _, _) in counts.items() if rule_id not in known
    ]
    return categories


def _fingerprint(counts):
    """A short token that changes whenever the coordinator's open tasks change."""
    text = repr(sorted(counts.items()))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _list_context(filters, coordinators, counts=None, fresh_after=None, focus=None):
    """Everything the list's template needs, in a fixed number of queries."""
    account = current_user.account_id
    counts = Task.open_counts(account, filters.assignee) if counts is None else counts
    open_tasks, completed = Task.page_listing(
        account, filters.assignee, filters.category, COMPLETED_SHOWN if filters.completed else 0, filters.shown
    )
    snoozed = []
    if filters.snoozed:
        snoozed = Task.snoozed_listing(account, filters.assignee, filters.category, SNOOZED_SHOWN)
    tasks = open_tasks + completed
    open_total = sum(n for _, n, _, _ in counts.values())
    in_view = counts.get(filters.category, (None, 0))[1] if filters.category else open_total
    not_shown = max(0, in_view - len(open_tasks))
    return {
        "not_shown": not_shown,
        "more_url": filters.url(shown=filters.shown + OPEN_SHOWN_STEP) if not_shown else None,
        "filters": filters,
        "coordinators": coordinators,
        "me": current_user,
        "categories": _categories(counts),
        "open_total": open_total,
        "open_tasks": open_tasks,
        "completed_tasks": completed,
        "snoozed_tasks": snoozed,
        "later": _later(),
        "action_urls": links.action_urls(account, tasks, current_user.is_admin) if tasks else {},
        "fingerprint": _fingerprint(counts),
        "seen": max((top for _, _, _, top in counts.values()), default=0),
        "fresh_after": fresh_after,
        "category_name": _category_name(filters.category, counts),
        "urls": TaskUrls(),
        "density": _density(),
        "names": {person.id: person.display_name for person in coordinators},
        "focus": focus,
    }


def _density():
    """The density the browser chose last; compact (one line per task) unless it chose otherwise."""
    chosen = request.cookies.get(DENSITY_COOKIE)
    return chosen if chosen in DENSITIES else DENSITIES[0]


def _category_name(rule_id, counts):
    if not rule_id:
        return None
    rule = _rulebook().rule(rule_id)
    return rule.category if rule else counts.get(rule_id, (rule_id,))[0]


@bp.get("/")
def home():
    """The task list is the home page."""
    return redirect(url_for("tasks.index"))


@bp.get("/tasks")
@login_required
def index():
    """A coordinator's tasks (?assignee=EMAIL, ?category=RULE_ID, ?completed=1): page, or its list region."""
    coordinators = _coordinators()
    filters = ListFilters.parse(request.args, coordinators, current_user)
    focus = request.args.get("focus", type=int)  # the task to go on with, after an action
    return page_or_fragment("tasks/list.html", "region", **_list_context(filters, coordinators, focus=focus))


@bp.get("/tasks/updates")
@login_required
def updates():
    """For the live list: nothing (204) while the tasks are unchanged, else the new rows and counts."""
    filters = ListFilters.parse(request.args, _coordinators(), current_user)
    counts = Task.open_counts(current_user.account_id, filters.assignee)
    if _fingerprint(counts) == request.args.get("fingerprint"):
        return "", 204
    seen = request.args.get("seen", type=int) or 0
    context = _list_context(filters, _coordinators(), counts, fresh_after=seen)
    context["new_tasks"] = Task.opened_since(current_user.account_id, filters.assignee, seen) if seen else []
    return render_block("tasks/_changed.html", "changed", **context), 200, {"Vary": "HX-Request"}


@bp.get("/tasks/stream")
@login_required
def stream():
    """Server-sent events for the open list: `event: tasks` when the account's tasks change."""
    try:
        pubsub = live.subscribe(current_user.account_id)
    except redis.RedisError as exc:
        log.warning("no live task stream: %s", exc)
        return "Live updates are unavailable; the list keeps polling.", 503, {"Retry-After": "30"}
    config = current_app.config
    events = live.event_stream(
        pubsub,
        resumed="Last-Event-ID" in request.headers,
        seconds=config.get("LIVE_STREAM_SECONDS"),
        heartbeat=config.get("LIVE_HEARTBEAT_SECONDS"),
    )
    # No buffering by a proxy (nginx honours X-Accel-Buffering), no caching anywhere.
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return Response(events, mimetype="text/event-stream", headers=headers)


def _task_or_404(task_id):
    return Task.with_people(current_user.account_id, task_id) or abort(404)


def _after_change(task, message, undo):
    """After completing or reopening (snoozing, dismissing, waking): htmx gets the new rows, counts
    and notice; a form, a 303. undo: False, True (the Undo reopens) or "wake" (it ends a snooze)."""
    notice = {"message": message, "task_id": task.id, "title": task.title, "undo": undo}
    if request.args.get("from") == "detail":
        _tell_and_flash(notice)
        return redirect_or_fragment(url_for("tasks.detail", task_id=task.id), lambda: _detail_fragment(task.id))
    return _back_to_list(notice)


def _tell_and_flash(notice):
    """Colleagues' open lists of the account are told, so they update too; a plain form's browser
    finds the notice on the page it is sent back to."""
    live.publish_changes([current_user.account_id])
    if not is_fragment_request():
        flash(notice, "task")


def _back_to_list(notice, coordinators=None):
    """The list as it is after a change, with its notice: new rows and counts for htmx, a 303 for a form."""
    coordinators = _coordinators() if coordinators is None else coordinators
    filters = ListFilters.parse(request.args, coordinators, current_user)
    notice["query"] = urlencode(filters.params())
    _tell_and_flash(notice)

    def fragment():
        return render_block("tasks/_changed.html", "changed", notice=notice, **_list_context(filters, coordinators))

    return redirect_or_fragment(filters.url(), fragment)


@bp.post("/tasks/<int:task_id>/complete")
@login_required
def complete(task_id):
    """Complete a task by hand; on a colleague's list, on their behalf."""
    task = _task_or_404(task_id)
    if not task.complete_by(current_user._get_current_object()):
        # Done already (by a colleague, or by the ATS or a calendar) while this list was open: say by whom.
        return _after_change(task, f"Already {_completion_in_words(task)}", undo=False)
    return _after_change(task, "Completed", undo=True)


def _completion_in_words(task):
    """ "completed by Sam Rivera 5 minutes ago", "completed automatically just now" (a notice's words)."""
    if task.completed_by_user_id:
        who = "you" if task.completed_by_user_id == current_user.id else task.completed_by_user.display_name
        by = f"completed by {who}"
    else:
        by = "completed automatically"
    when = ago(task.completed_at) if task.completed_at else None
    return f"{by} {when} ago" if when and when != "just now" else f"{by} {when or ''}".strip()


@bp.post("/tasks/<int:task_id>/reopen")
@login_required
def reopen(task_id):
    """Reopen a completed task (the "Undo" of a completion)."""
    task = _task_or_404(task_id)
    try:
        task.reopen_by(current_user._get_current_object())
    except AlreadyOpen as exc:
        # The same work has an open task again (opened since): that one is the task to work on.
        return _after_change(exc.task or task, "Already open again as this task", undo=False)
    return _after_change(task, "Reopened", undo=False)


def _snooze_words(task, until, zone):
    """How a snooze is said: "until Fri 04 Dec, 09:00", or "until they answer" (its rule's wake_on)."""
    if until is not None:
        return f"until {localtime(until, 'day', zone)}"
    rule = _rulebook().rule(task.rule_id)
    events = sorted({etype for entry in rule.wake_on for etype in entry.events}) if rule else []
    return f"until they answer (the next {' or '.join(events)})"


@bp.post("/tasks/<int:task_id>/snooze")
@login_required
def snooze(task_id):
    """Snooze a task: until a time (until=3h|tomorrow|monday, or custom with at=YYYY-MM-DDTHH:MM, in
    one's own zone) or, for a rule with a wake_on, until=event: off the list until then."""
    task = _task_or_404(task_id)
    value = request.form.get("until", "")
    if value == snoozing.UNTIL_EVENT and task.rule_id not in _later()["waking"]:
        abort(400, "No event wakes this task: snooze it until a time.")
    zone = current_zone()
    try:
        until = snoozing.until(value, utcnow(), zone, request.form.get("at", ""))
    except ValueError as exc:
        abort(400, str(exc).capitalize() + ".")
    words = _snooze_words(task, until, zone)
    if not task.snooze_by(current_user._get_current_object(), until, note=words):
        return _after_change(task, f"Already {_completion_in_words(task)}", undo=False)
    return _after_change(task, f"Snoozed {words}", undo="wake")


@bp.post("/tasks/<int:task_id>/wake")
@login_required
def wake(task_id):
    """End a task's snooze now (the Undo of a snooze, or "Wake now"): back on the list."""
    task = _task_or_404(task_id)
    task.wake_by(current_user._get_current_object())
    return _after_change(task, "Back on the list", undo=False)


@bp.post("/tasks/<int:task_id>/dismiss")
@login_required
def dismiss(task_id):
    """Dismiss a task with a reason (reason=duplicate|handled_outside|not_needed|other) and a note:
    completed, and shown so under Show completed; the Undo reopens it."""
    task = _task_or_404(task_id)
    reason = request.form.get("reason", "")
    if reason not in Task.DISMISS_REASONS:
        abort(400, "Choose why the task is dismissed.")
    note = request.form.get("note", "")[:DISMISS_NOTE_MAX]
    if not task.dismiss_by(current_user._get_current_object(), reason, note):
        return _after_change(task, f"Already {_completion_in_words(task)}", undo=False)
    return _after_change(task, f"Dismissed ({Task.DISMISS_REASONS[reason].lower()})", undo=True)


def _plural(n):
    return f"{n} task{'' if n == 1 else 's'}"


def _at_most_a_batch(ids):
    """The ids, if no more than BULK_MAX; else a 400."""
    if len(ids) > BULK_MAX:
        abort(400, f"Select at most {BULK_MAX} tasks at a time.")
    return ids


def _selected_ids(values):
    """The task ids a bulk form names; anything that is not an id is ignored."""
    return _at_most_a_batch({int(v) for v in values if v.isdigit()})


def _complete_all(tasks, user):
    """Complete the open ones (on their assignee's behalf, as one by one); the Undo reopens them."""
    done = [task for task in tasks if task.complete_by(user)]
    undo = {"action": "reopen", "values": [task.id for task in done]}
    return "Completed", done, undo


def _reopen_all(tasks, user):
    """The Undo of a bulk completion: reopen the completed ones."""
    reopened = []
    for task in tasks:
        try:
            if task.reopen_by(user):
                reopened.append(task)
        except AlreadyOpen:
            pass  # the same work has an open task again: that one stays, this one stays completed
    return "Reopened", reopened, None


def _hand_all(tasks, user, to):
    """Hand the tasks to `to`; the Undo gives each back to whoever had it."""
    handed = []
    for task in tasks:
        was = task.assignee_id
        if task.status == Task.OPEN and task.hand_to(to, user):
            handed.append((task, was))
    undo = {"action": "return", "values": [f"{task.id}:{was}" for task, was in handed if was]}
    return f"Handed to {to.display_name}", [task for task, _ in handed], undo


def _return_all(values, user, coordinators):
    """Undo a hand-over: each task (the account's) back to the coordinator it came from."""
    people = {person.id: person for person in coordinators}
    back = {}
    for value in values:
        task_id, _, person_id = value.partition(":")
        if task_id.isdigit() and person_id.isdigit() and int(person_id) in people:
            back[int(task_id)] = people[int(person_id)]
    tasks = Task.selected(current_user.account_id, _at_most_a_batch(back))
    returned = [task for task in tasks if task.status == Task.OPEN and task.hand_to(back[task.id], user)]
    return "Handed back", returned, None


@bp.post("/tasks/bulk")
@login_required
def bulk():
    """Complete the selected tasks or hand them to another coordinator in one go, each change
    recorded in its task's history; the notice's Undo reverts the whole batch (action=reopen,
    action=return)."""
    user = current_user._get_current_object()
    coordinators = _coordinators()
    with Task.batch():
        message, changed, undo = _apply_bulk(request.form, user, coordinators)
    if not changed:
        message, undo = "No tasks changed", None
    notice = {"message": message, "title": _plural(len(changed)), "batch": undo if undo and undo["values"] else None}
    notice["first_id"] = changed[0].id if changed else None
    return _back_to_list(notice, coordinators)


def _apply_bulk(form, user, coordinators):
    """One bulk action: (what the notice says, the tasks it changed, its undo or None)."""
    action = form.get("action")
    if action == "return":
        return _return_all(form.getlist("back"), user, coordinators)
    if action not in ("complete", "reopen", "hand_over"):
        abort(400, "Unknown bulk action.")
    tasks = Task.selected(current_user.account_id, _selected_ids(form.getlist("task")))
    if action == "complete":
        return _complete_all(tasks, user)
    if action == "reopen":
        return _reopen_all(tasks, user)
    email = (form.get("to") or "").strip().lower()
    to = next((person for person in coordinators if person.email == email), None)
    if to is None:
        abort(400, "Choose whom to hand the tasks to.")
    return _hand_all(tasks, user, to)


@bp.post("/tasks/view")
@login_required
def choose_density():
    """Switch the list between compact and comfortable rows; the browser remembers the choice."""
    density = request.form.get("density")
    if density not in DENSITIES:
        abort(400, "Unknown view.")
    filters = ListFilters.parse(request.args, _coordinators(), current_user)
    response = redirect(filters.url(), 303)
    response.set_cookie(
        DENSITY_COOKIE,
        density,
        max_age=365 * 86400,
        httponly=True,
        samesite="Lax",
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
    )
    return response


def _detail_context(task_id):
    task = _task_or_404(task_id)
    rule = _rulebook().rule(task.rule_id)
    event = Event.get_or_none(Event.id == task.raised_by_event_id) if task.raised_by_event_id else None
    envelope = _envelope_of(event)
    data = (envelope or {}).get("data") or {}
    interview_at, people = _interview_of(task)
    return {
        "task": task,
        "interview_at": interview_at,
        "interview_people": people,
        "rule_description": rule.description if rule else task.description,
        "event": event,
        "envelope": envelope,
        "interviews": _interviews_concerned(data),
        "schedules_url": _schedules_url(task),
        "history": TaskHistory.history_of(task),
        "later": _later(),
        "action_url": links.action_urls(current_user.account_id, [task], current_user.is_admin).get(task.id),
        "back_url": url_for("tasks.index", assignee=task.assignee.email if task.assignee_id else UNASSIGNED),
    }


def _interview_of(task):
    """When the interview a task is about starts, and the people on it whose clocks are worth showing
    (the attendee who declined, when they are one of the account's people): (None, []) without one."""
    subjects = task.subjects or {}
    starts_at = (subjects.get("schedule") or {}).get("starts_at")
    if not starts_at:
        return None, []
    email = (subjects.get("attendee") or {}).get("email")
    person = User.get_or_none(User.account == task.account_id, User.email == email.lower()) if email else None
    return to_utc(starts_at), [person] if person else []


def _envelope_of(event):
    """The raising event as a Docket envelope (vendor payloads go through their adapter), its
    records completed from the mirror: a calendar's decline names only the schedule and the
    attendee, and an ATS's webhook often only ids, but the page names people and things. Or None."""
    if event is None:
        return None
    try:
        envelopes = enriched_events(event)
    except (LookupError, TypeError, ValueError) as exc:
        log.warning("event %s cannot be described: %s", event.id, exc)
        return None
    return envelopes[0] if envelopes else None


def _interviews_concerned(data):
    """The schedule's interviews an event is about, with their times: the attendee's, else all."""
    schedule = data.get("schedule") if isinstance(data.get("schedule"), dict) else {}
    interviews = [i for i in schedule.get("interviews") or () if isinstance(i, dict)]
    attendee = data.get("attendee") if isinstance(data.get("attendee"), dict) else {}
    email = str(attendee.get("email") or "").strip().lower()
    theirs = [i for i in interviews if any(str(a.get("email", "")).lower() == email for a in i.get("attendees") or ())]
    return [dict(i, starts_at=to_utc(i["starts_at"]), ends_at=to_utc(i["ends_at"])) for i in theirs or interviews]


def _schedules_url(task):
    """The candidate's schedules page, for a task about a candidate the mirror knows, else None."""
    candidate_id = ((task.subjects or {}).get("candidate") or {}).get("id")
    if candidate_id is None or Candidate.by_external_id(current_user.account_id, str(candidate_id)) is None:
        return None
    return url_for("schedules.of_candidate", external_id=str(candidate_id))


def _detail_fragment(task_id):
    return render_block("tasks/detail.html", "detail", **_detail_context(task_id))


@bp.get("/tasks/<int:task_id>")
@login_required
def detail(task_id):
    """Why a task exists, what to do, the category's explanation and the task's history."""
    return page_or_fragment("tasks/detail.html", "detail", **_detail_context(task_id))


@bp.app_template_global("utcnow")
def _utcnow():
    """Now, for templates that show ages: read once per page, not once per row."""
    from ..models import utcnow

    return utcnow()


# A task turns amber this long before it is due, and red once it is overdue.
DUE_SOON = dt.timedelta(hours=4)


@dataclass(frozen=True)
class Urgency:
    """What a row says of time: how soon the interview or the due time is, how long someone has
    waited, and `level` (none, later, soon, overdue) for the colour that turns grey, amber, red."""

    label: str
    waiting: str
    level: str


def span(delta):
    """A length of time as a row says it, to the nearest unit: "45 min", "3 h", "2 days"."""
    minutes = round(abs(delta).total_seconds() / 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 47.5 * 60:
        return f"{round(minutes / 60)} h"
    return f"{round(minutes / 1440)} days"


@bp.app_template_global("urgency")
def urgency(task, now):
    """A task's Urgency at `now`: "interview in 2 h" when it is about a scheduled interview, else
    "due in 5 h" / "overdue 3 h"; "waiting 3 days" since the event that raised it happened."""
    due = task.due_at
    level = "none" if due is None else "overdue" if due <= now else "soon" if due - now <= DUE_SOON else "later"
    starts_at = ((task.subjects or {}).get("schedule") or {}).get("starts_at")
    if starts_at:
        starts = to_utc(starts_at)
        label = f"interview in {span(starts - now)}" if starts > now else f"interview began {span(now - starts)} ago"
    elif due is not None:
        label = f"overdue {span(now - due)}" if level == "overdue" else f"due in {span(due - now)}"
    else:
        label = ""
    waited = now - (task.waiting_since or task.created_at)
    waiting = "waiting under a minute" if waited < dt.timedelta(minutes=1) else f"waiting {span(waited)}"
    return Urgency(label, waiting, level)


@bp.app_template_filter("ago")
def ago(moment, now=None):
    """How long ago, in words: "just now", "5 minutes", "3 hours", "2 days"."""
    from ..models import utcnow

    seconds = max(0, int(((now or utcnow()) - moment).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return "just now"
