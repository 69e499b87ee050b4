"""Out of office: a coordinator sets their own absences on their profile, an admin anyone's from
Admin → People; each can be changed, ended early or deleted (webapp/absences.py does the work)."""

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import absences as service
from ..forms import AbsenceForm
from ..models import Absence, User, utcnow
from ..timezones import zone_names, zone_of

bp = Blueprint("absences", __name__)

# Absences that ended this long ago are still listed, so that a mistake can be seen and put right.
RECENTLY_ENDED = dt.timedelta(days=14)


@bp.before_request
@login_required
def _signed_in():
    return None


def context(person, form=None):
    """What a page listing a person's absences and the form for a new one needs."""
    zone = zone_of(person)
    return {
        "person": person,
        "absences": Absence.of_person(person, utcnow() - RECENTLY_ENDED),
        "absence_form": form or AbsenceForm(formdata=None),
        "absence_zone": zone,
        "backups": [u for u in User.coordinators_of(person.account_id) if u.id != person.id],
        "absence_action": _new_url(person),
        "now": utcnow(),
    }


@bp.app_template_global("absence_when")
def _when(absence, zone):
    return service.when(absence, zone)


def _own(person):
    return person.id == current_user.id


def _new_url(person):
    return url_for("absences.new_own") if _own(person) else url_for("absences.of_person", user_id=person.id)


def _back_url(person):
    """Where a person's absences are listed: the profile for one's own, the admin's page for others'."""
    return url_for("auth.profile") if _own(person) else url_for("absences.of_person", user_id=person.id)


def _person_for_admin(user_id):
    """The account's person with this id, for an admin; a 403 for anyone else, a 404 for another account's."""
    if not current_user.is_admin:
        abort(403)
    return User.get_or_none(User.id == user_id, User.account == current_user.account_id) or abort(404)


def _absence_or_404(absence_id):
    """The account's absence with this id: one's own, or anyone's for an admin."""
    absence = Absence.of_account(current_user.account_id, absence_id) or abort(404)
    if absence.user_id != current_user.id and not current_user.is_admin:
        abort(403)
    return absence


def _save(person, form, absence=None):
    """Save the posted absence; back to the list, or the form again (422) with what is wrong."""
    if form.validate_on_submit():
        starts_at, ends_at = form.span(zone_of(person))
        try:
            saved, moved = service.save(
                person,
                starts_at,
                ends_at,
                form.backup.data,
                form.hand_over.data,
                current_user._get_current_object(),
                absence=absence,
            )
        except service.Invalid as exc:
            form.add_errors(exc.errors)
        else:
            message = f"Out of office saved: {service.when(saved, zone_of(person))}."
            if moved:
                message += f" {moved} open task{'' if moved == 1 else 's'} went to {saved.backup.display_name}."
            flash(message, "success")
            return redirect(_back_url(person), 303)
    return None


@bp.post("/account/absences")
def new_own():
    """Set one's own absence (the form on the profile page)."""
    person = current_user._get_current_object()
    form = AbsenceForm()
    return _save(person, form) or _profile_again(form)


def _profile_again(form):
    """The profile page again, its absence form showing what is wrong (422)."""
    page = render_template(
        "auth/profile.html",
        zones=zone_names(),
        zone=zone_of(current_user).key,
        errors={},
        **context(current_user, form),
    )
    return page, 422


@bp.route("/admin/people/<int:user_id>/absences", methods=["GET", "POST"])
def of_person(user_id):
    """An admin's page for one person's absences: the list, and setting a new one."""
    person = _person_for_admin(user_id)
    form = AbsenceForm() if _posted() else None
    if form is not None:
        done = _save(person, form)
        if done:
            return done
        return render_template("absences/person.html", **context(person, form)), 422
    return render_template("absences/person.html", **context(person))


def _posted():
    return request.method == "POST"


@bp.route("/absences/<int:absence_id>/edit", methods=["GET", "POST"])
def edit(absence_id):
    """Change an absence that is not over: its days, times, backup, hand-over."""
    absence = _absence_or_404(absence_id)
    person = User.get_by_id(absence.user_id)
    zone = zone_of(person)
    form = AbsenceForm() if _posted() else AbsenceForm.of(absence, zone)
    if _posted():
        done = _save(person, form, absence)
        if done:
            return done
    status = 422 if form.has_errors else 200
    page = render_template(
        "absences/edit.html",
        absence=absence,
        person=person,
        absence_form=form,
        absence_zone=zone,
        backups=[u for u in User.coordinators_of(person.account_id) if u.id != person.id],
        back_url=_back_url(person),
    )
    return page, status


@bp.post("/absences/<int:absence_id>/end")
def end(absence_id):
    """End an absence under way now: what is covered for its person goes back to them."""
    absence = _absence_or_404(absence_id)
    person = User.get_by_id(absence.user_id)
    try:
        moved = service.end_now(absence)
    except service.Invalid as exc:
        flash(" ".join(exc.errors.values()), "error")
    else:
        back = f" {moved} open task{'' if moved == 1 else 's'} went back to {person.display_name}." if moved else ""
        flash(f"{person.display_name} is back.{back}", "success")
    return redirect(_back_url(person), 303)


@bp.post("/absences/<int:absence_id>/delete")
def delete(absence_id):
    """Delete an absence (one under way ends first, so that covered tasks go back)."""
    absence = _absence_or_404(absence_id)
    person = User.get_by_id(absence.user_id)
    service.delete(absence)
    flash("The absence is deleted.", "success")
    return redirect(_back_url(person), 303)
