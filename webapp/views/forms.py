"""What the action pages (schedules, set-up) share: the signed-in account, the task a coordinator
came from, a form page or its fragment, and where to go after a save."""

from flask import abort, current_app, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required

from ..htmx import is_fragment_request, page_or_fragment
from ..inbox import wait_processed
from ..models import UNASSIGNED, Task
from ..queue import has_workers


def signed_in_only(bp):
    """Every page of the blueprint is for the account's signed-in people."""

    @bp.before_request
    @login_required
    def _signed_in():
        return None


def account_id():
    return current_user.account_id


def actor():
    """The signed-in person, as the actor the events of their actions name."""
    return current_user._get_current_object()


def of_account_or_404(model, external_id):
    """The account's mirror row with this external id, or a 404 (another account's is not found)."""
    return model.get_or_none(model.account == account_id(), model.external_id == external_id) or abort(404)


def task_from_request():
    """The task the coordinator came from (?task=ID), when it is one of the account's."""
    task_id = request.values.get("task", type=int)
    return Task.of_account(account_id(), task_id) if task_id else None


def done_url(task):
    return url_for("tasks.detail", task_id=task.id) if task else url_for("tasks.index")


def form_page(template_name, block, /, status=200, **context):
    """A form page, or for htmx the form alone. A form sent back with its errors is a 4xx for a
    plain post, but a 200 for htmx: it swaps the form in, and the request did not fail."""
    return page_or_fragment(template_name, block, status=200 if is_fragment_request() else status, **context)


def finish(message, task, location=None, undo_url=None):
    """After a save: back on the list the task is on, with what completed and the next task in
    focus (or on to `location`). A plain form is sent on (303), htmx is told to go (HX-Redirect)."""
    if task is not None and location is None:
        location = _back_on_the_list(message, task, undo_url)
    else:
        flash(message, "info")
        location = location or url_for("tasks.index")
    if is_fragment_request():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
    else:
        response = redirect(location, 303)
    response.vary.add("HX-Request")
    return response


def _back_on_the_list(message, task, undo_url):
    """Where a coordinator goes after doing a task's action: its list, the next task in focus, and a
    notice naming the task the action completed (once a worker has processed the action's event)."""
    if has_workers():
        wait_processed(account_id(), current_app.config["ACTION_WAIT_SECONDS"])
    task = Task.of_account(account_id(), task.id)
    done = task.status == Task.COMPLETED
    notice = {
        "message": "Completed" if done else "Completing",
        "title": task.title,
        "detail": message if done else f"{message} The task completes as soon as Docket has processed it.",
        "task_id": task.id,
        "undo_url": undo_url,
    }
    flash(notice, "task")
    owner = task.assignee if task.assignee_id else UNASSIGNED
    following = Task.next_open(account_id(), owner, task)
    return list_of(task, focus=following)


def list_of(task, focus=None):
    """The list a task is on (its assignee's, or the unassigned tasks), with a task in focus."""
    owner = task.assignee if task.assignee_id else None
    assignee = UNASSIGNED if owner is None else (None if owner.id == current_user.id else owner.email)
    return url_for("tasks.index", assignee=assignee, focus=focus.id if focus else None)
