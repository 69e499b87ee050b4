"""Error pages in the app's look (403, 404, 500 …), a short notice for htmx, JSON for the API."""

from flask import jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..htmx import client_redirect, is_fragment_request

MESSAGES = {
    400: ("Something was wrong with that request", "Please go back and try again."),
    403: ("You can’t open this", "This page belongs to someone else, or needs rights you don’t have."),
    404: ("Not found", "There is nothing here: the address may be mistyped, or the task belongs to another account."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    413: ("Too large", "What you sent is larger than Docket accepts."),
    429: ("Slow down", "Too many requests in a short time. Please wait a moment and try again."),
    500: ("Something went wrong on our side", "We have been told. Please try again in a moment."),
}


def json_answer(status, **body):
    """A JSON answer with this status: the API's and the webhooks' one way to say how it went."""
    response = jsonify(**body)
    response.status_code = status
    return response


def json_error(status, error, message, **extra):
    """A JSON error: a machine-readable `error`, a `message` a person can act on, and any details."""
    return json_answer(status, error=error, message=message, **extra)


def _render(code, message=None):
    title, default_message = MESSAGES.get(code, ("Something went wrong", "Please try again."))
    message = message or default_message
    if request.path.startswith("/api/"):
        return json_error(code, title.lower().replace(" ", "_"), message)
    if is_fragment_request():
        # Shown in the page's notice area rather than inside whatever the request targeted.
        body = render_template("errors/_notice.html", title=title, message=message)
        return body, code, {"HX-Retarget": "#notice", "HX-Reswap": "innerHTML", "Vary": "HX-Request"}
    return render_template("errors/error.html", code=code, title=title, message=message), code


def init_app(app):
    """Register the error pages."""

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        if not current_user.is_authenticated and request.headers.get("HX-Request") == "true":
            # The session expired (and its CSRF secret with it): sign in again, not an error in a row.
            from flask import url_for

            return client_redirect(url_for("auth.login"))
        return _render(400, "The form had expired. Please reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http(exc):
        if exc.code is None or exc.code < 400:
            return exc
        return _render(exc.code)

    @app.errorhandler(InternalServerError)
    def _server_error(exc):
        return _render(500)
