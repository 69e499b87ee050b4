"""Sign-in and sign-out: e-mail and password, remember-me, a throttle on failed attempts, and
changing one's password. Signing out and a new password end every session of the user."""

import functools
import secrets

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from ..auth import sign_in_lifetime
from ..extensions import login_manager
from ..htmx import client_redirect
from ..models import User
from ..security import LoginThrottle, client_address, safe_next
from ..timezones import is_zone, zone_names, zone_of
from . import absences

bp = Blueprint("auth", __name__)


@bp.record_once
def _setup(state):
    login_manager.login_view = "auth.login"

    @login_manager.unauthorized_handler
    def _unauthorized():
        """Plain requests go to the sign-in page; htmx ones are told to send the browser there."""
        target = url_for("auth.login", next=_return_path())
        if request.headers.get("HX-Request") == "true":
            return client_redirect(target)
        return redirect(target)


def _return_path():
    """Where to come back to after signing in: for htmx, the page the user was on."""
    current = request.headers.get("HX-Current-URL") if request.headers.get("HX-Request") else None
    if current:
        from urllib.parse import urlsplit

        parts = urlsplit(current)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.full_path.rstrip("?")


def _authenticate(email, password):
    """The one user with this e-mail whose password matches, or None."""
    email = email.strip().lower()
    candidates = list(User.select().where(User.email == email, User.password_hash.is_null(False)))
    if not candidates:
        # As slow as checking a real password, so the answer's time does not say which e-mails exist.
        check_password_hash(_no_such_user_hash(), password)
        return None
    matches = [user for user in candidates if user.check_password(password)]
    return matches[0] if len(matches) == 1 else None


@functools.cache
def _no_such_user_hash():
    return generate_password_hash(secrets.token_hex(16))


@bp.app_context_processor
def _remember_days():
    return {"remember_days": round(sign_in_lifetime(current_app).total_seconds() / 86400)}


@bp.get("/login")
def login():
    """The sign-in form."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next"), url_for("tasks.index")))
    return render_template("auth/login.html", next=request.args.get("next", ""), email="")


@bp.post("/login")
def login_post():
    """Sign in; beyond a few failures a client must wait longer each time (see LoginThrottle)."""
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    next_path = request.form.get("next", "")
    throttle = LoginThrottle()
    address = client_address()
    wait = throttle.wait_seconds(email, address)
    if wait:
        response = render_template(
            "auth/login.html",
            next=next_path,
            email=email,
            error=f"Too many failed sign-ins. Please wait {wait} seconds and try again.",
        )
        return response, 429, {"Retry-After": str(wait)}
    user = _authenticate(email, password) if email and password else None
    if user is None:
        throttle.failed(email, address)
        error = "That e-mail and password do not match." if email and password else "Enter your e-mail and password."
        return render_template("auth/login.html", next=next_path, email=email, error=error), 401
    throttle.succeeded(email, address)
    if not user.is_active:
        error = "This sign-in has been turned off. An admin of your account can turn it on again."
        return render_template("auth/login.html", next=next_path, email=email, error=error), 403
    login_user(user, remember=request.form.get("remember") == "1")
    user.record_login()
    _zone_from_browser(user, request.form.get("time_zone", ""))
    return redirect(safe_next(next_path, url_for("tasks.index")), 303)


def _zone_from_browser(user, name):
    """A first sign-in takes the browser's zone (the form's hidden field, filled by a script) as the
    person's own; one they have, chosen or taken before, is kept. Without script, the app's default."""
    if not user.time_zone and is_zone(name):
        user.time_zone = name
        User.update(time_zone=name).where(User.id == user.id).execute()


@bp.post("/logout")
@login_required
def logout():
    """Sign out everywhere (every session and remember-me cookie of the user) and go to sign-in."""
    current_user.end_sessions()
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), 303)


MIN_PASSWORD_LENGTH = 10


@bp.get("/account/password")
@login_required
def password():
    """The form to change one's password."""
    return render_template("auth/password.html", errors={})


@bp.post("/account/password")
@login_required
def password_post():
    """Change the password: every other session of the user ends, this one is signed in afresh."""
    user = current_user._get_current_object()
    current, new, again = (request.form.get(name, "") for name in ("current", "new", "again"))
    errors = {}
    if not user.check_password(current):
        errors["current"] = "That is not your current password."
    if len(new) < MIN_PASSWORD_LENGTH:
        errors["new"] = f"Use at least {MIN_PASSWORD_LENGTH} characters."
    elif new != again:
        errors["again"] = "The two new passwords differ."
    if errors:
        return render_template("auth/password.html", errors=errors), 422
    user.set_password(new)
    user.save(only=[User.password_hash, User.session_token])
    remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
    user.signed_in_at = None  # the password was just proved: a fresh sign-in, with a full lifetime
    login_user(user, remember=remembered)
    flash("Your password is changed. Every other place you were signed in is signed out.", "info")
    return redirect(url_for("tasks.index"), 303)


@bp.get("/account/profile")
@login_required
def profile():
    """The person's own settings: their time zone, and their absences (out of office)."""
    return profile_page(zone_of(current_user).key)


def profile_page(zone, errors=None, **extra):
    """The profile page (time zone, absences, notifications), with what a form there got wrong."""
    page = dict(zones=zone_names(), zone=zone, errors=errors or {}, **absences.context(current_user), **extra)
    return render_template("auth/profile.html", **page)


@bp.post("/account/profile")
@login_required
def profile_post():
    """Save the person's time zone: every time Docket shows them, and every time they enter, is in it."""
    name = request.form.get("time_zone", "").strip()
    if not is_zone(name):
        return profile_page(name, {"time_zone": "Choose a time zone from the list."}), 422
    user = current_user._get_current_object()
    user.time_zone = name
    user.save(only=[User.time_zone])
    flash(f"Times are shown in {name} now.", "info")
    return redirect(url_for("auth.profile"), 303)
