"""The admin page for the account's people: who can sign in, and turning a person's sign-in off
(which ends every session of theirs at once) or on again."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..models import Absence, User, utcnow

bp = Blueprint("admin_people", __name__, url_prefix="/admin/people")


@bp.before_request
@login_required
def _admins_only():
    if not current_user.is_admin:
        abort(403)


def _person_or_404(user_id):
    return User.get_or_none(User.id == user_id, User.account == current_user.account_id) or abort(404)


@bp.get("")
def index():
    """The account's people, with their last sign-in, whether they may sign in, and who is away."""
    account = current_user.account_id
    away = Absence.away_now(account, utcnow())
    return render_template("admin/people.html", people=User.coordinators_of(account), away=away)


@bp.post("/<int:user_id>/disable")
def disable(user_id):
    """Turn a person's sign-in off: their sessions, remember-me cookies and API tokens stop working."""
    person = _person_or_404(user_id)
    if person.id == current_user.id:
        flash("You cannot turn off your own sign-in.", "error")
    else:
        person.disable()
        flash(f"{person.display_name} can no longer sign in, and is signed out everywhere.", "success")
    return redirect(url_for(".index"), 303)


@bp.post("/<int:user_id>/enable")
def enable(user_id):
    """Let a person sign in again (their old sessions stay ended)."""
    person = _person_or_404(user_id)
    person.enable()
    flash(f"{person.display_name} can sign in again.", "success")
    return redirect(url_for(".index"), 303)
