"""What the action pages (schedules, set-up) share: the signed-in account, the task a coordinator
came from, a form page or its fragment, and where to go after a save."""

from flask import abort, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required

from ..htmx import is_fragment_request, page_or_fragment
from ..models import Task


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


def finish(message, task, location=None):
    """After a save: a plain form is sent on (303) to the task, htmx is told to go there (HX-Redirect)."""
    flash(message, "info")
    location = location or done_url(task)
    if is_fragment_request():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
    else:
        response = redirect(location, 303)
    response.vary.add("HX-Request")
    return response
