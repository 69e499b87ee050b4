"""Scheduling pages: schedule a candidate for a stage, edit or cancel a schedule (and undo a
cancellation), a candidate's schedules, and the conflict check the form asks for as its fields change."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import live
from ..htmx import page_or_fragment
from ..inbox import wait_processed
from ..models import Application, Candidate, Room, Schedule, ScheduledInterview, Stage, User
from ..queue import has_workers
from ..scheduling.booking import CalendarRefused
from ..scheduling.checks import check as check_plan
from ..scheduling.form import ScheduleForm
from ..scheduling.slots import slots_for_stage, slots_of
from ..scheduling.writing import TooLateToUndo, cancel_schedule, create_schedule, restore_schedule, update_schedule
from ..timezones import current_zone
from .forms import (
    account_id,
    actor,
    done_url,
    finish,
    form_page,
    list_of,
    of_account_or_404,
    signed_in_only,
    task_from_request,
)

bp = Blueprint("schedules", __name__, url_prefix="/schedules")

TEMPLATE = "schedules/form.html"


signed_in_only(bp)


def _form_context(form, action_url, task, application, stage, schedule=None):
    candidate = application.candidate if application is not None and application.candidate_id else None
    return {
        "form": form,
        "slots": form.plan.slots,
        "conflicts": form.plan.conflicts,
        "action_url": action_url,
        "check_url": url_for("schedules.check", schedule=schedule.external_id if schedule else None),
        "task": task,
        "application": application,
        "candidate": candidate,
        "job": application.job if application is not None and application.job_id else None,
        "stage": stage,
        "schedule": schedule,
        "people": User.coordinators_of(account_id()),
        "rooms": Room.of_account(account_id()),
        "back_url": done_url(task),
    }


def _save_or_redisplay(context_for, save, message):
    """Check the posted interviews; redisplay with errors (422) or clashes to confirm (409), else save."""
    form = ScheduleForm(account_id(), context_for.get("schedule"))
    rearranged = form.rearranged()
    if rearranged is not None:
        return form_page(TEMPLATE, "form", **_form_context(rearranged, **context_for))
    if not form.validate_on_submit():
        return form_page(TEMPLATE, "form", status=422, **_form_context(form, **context_for))
    if form.plan.has_conflicts and form.action.data != "confirm":
        return form_page(TEMPLATE, "form", status=409, confirm=True, **_form_context(form, **context_for))
    try:
        save(form.plan.slots)
    except CalendarRefused as exc:
        form.add_errors({"interviews": f"The calendar did not take the schedule, so nothing was saved: {exc}"})
        return form_page(TEMPLATE, "form", status=502, **_form_context(form, **context_for))
    return finish(message, context_for["task"])


def _application_and_stage():
    application = of_account_or_404(Application, request.args.get("application", ""))
    stage = of_account_or_404(Stage, request.args.get("stage", ""))
    return application, stage


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Schedule a candidate for a stage (?application=ID&stage=ID, ATS ids), pre-filled from the stage."""
    application, stage = _application_and_stage()
    task = task_from_request()
    context_for = {
        "action_url": url_for(
            "schedules.new",
            application=application.external_id,
            stage=stage.external_id,
            task=task.id if task else None,
        ),
        "task": task,
        "application": application,
        "stage": stage,
    }
    if request.method == "GET":
        form = ScheduleForm.of_slots(account_id(), slots_for_stage(account_id(), stage, zone=current_zone()))
        return form_page(TEMPLATE, "form", **_form_context(form, **context_for))
    candidate = application.candidate.name if application.candidate_id else "The candidate"
    return _save_or_redisplay(
        context_for,
        lambda slots: create_schedule(_account_row(), actor(), application, stage, slots),
        f"{candidate} is scheduled for {stage.name}.",
    )


def _account_row():
    return current_user.account


def _schedule_or_404(external_id):
    return Schedule.of_account(account_id(), external_id) or abort(404)


@bp.route("/<external_id>/edit", methods=["GET", "POST"])
def edit(external_id):
    """Edit a schedule: swap an interviewer, switch the room, move a time."""
    schedule = _schedule_or_404(external_id)
    task = task_from_request()
    application = schedule.application if schedule.application_id else None
    context_for = {
        "action_url": url_for("schedules.edit", external_id=schedule.external_id, task=task.id if task else None),
        "task": task,
        "application": application,
        "stage": schedule.stage if schedule.stage_id else None,
        "schedule": schedule,
    }
    # A schedule made in the ATS is edited there (Docket would send invitations of its own).
    if request.method == "GET" or schedule.status == "cancelled" or schedule.source:
        form = ScheduleForm.of_slots(account_id(), slots_of(schedule), schedule)
        status = 200 if request.method == "GET" else 409
        return form_page(TEMPLATE, "form", status=status, **_form_context(form, **context_for))
    return _save_or_redisplay(
        context_for,
        lambda slots: update_schedule(_account_row(), actor(), schedule, slots),
        "The schedule is updated; everyone invited gets the new invitation.",
    )


@bp.route("/<external_id>/cancel", methods=["GET", "POST"])
def cancel(external_id):
    """Cancel a schedule, once confirmed (GET asks): its calendar events are cancelled and everyone
    invited is told; for a short while the notice that follows can undo it."""
    schedule = _schedule_or_404(external_id)
    task = task_from_request()
    if schedule.source:
        flash(f"This schedule was made in {schedule.source.capitalize()}: cancel it there.", "info")
        return redirect(url_for("schedules.edit", external_id=external_id), 303)
    if request.method == "GET":
        return render_template("schedules/cancel.html", **_schedule_page(schedule, task))
    try:
        cancel_schedule(_account_row(), actor(), schedule)
    except CalendarRefused as exc:
        flash(f"The calendar did not cancel the schedule: {exc}", "info")
        return redirect(url_for("schedules.edit", external_id=external_id), 303)
    undo_url = url_for("schedules.restore", external_id=external_id, task=task.id if task else None)
    message = "The schedule is cancelled; everyone invited is told."
    if task is None:
        return finish(message, None, location=url_for("schedules.of_candidate", external_id=_candidate_id(schedule)))
    return finish(message, task, undo_url=undo_url)


@bp.post("/<external_id>/restore")
def restore(external_id):
    """Undo a cancellation made a moment ago (the Undo of its notice): see restore_schedule."""
    schedule = _schedule_or_404(external_id)
    task = task_from_request()
    if has_workers():
        wait_processed(account_id(), current_app.config["ACTION_WAIT_SECONDS"])
    try:
        restore_schedule(_account_row(), actor(), schedule)
    except (TooLateToUndo, CalendarRefused) as exc:
        flash(f"The cancellation was not undone: {exc}.", "info")
        return redirect(done_url(task), 303)
    live.publish_changes([account_id()])
    flash("The cancellation is undone: the schedule is back, and everyone invited is invited again.", "info")
    if task is None:
        return redirect(url_for("schedules.of_candidate", external_id=_candidate_id(schedule)), 303)
    return redirect(list_of(task, focus=task), 303)


def _schedule_page(schedule, task):
    application = schedule.application if schedule.application_id else None
    return {
        "schedule": schedule,
        "task": task,
        "candidate": application.candidate if application is not None and application.candidate_id else None,
        "stage": schedule.stage if schedule.stage_id else None,
        "interviews": list(schedule.interviews.order_by(ScheduledInterview.starts_at, ScheduledInterview.id)),
        "back_url": url_for("schedules.edit", external_id=schedule.external_id, task=task.id if task else None),
    }


def _candidate_id(schedule):
    page = _schedule_page(schedule, None)
    return page["candidate"].external_id if page["candidate"] is not None else abort(404)


@bp.get("/candidate/<external_id>")
def of_candidate(external_id):
    """A candidate's schedules, current and past: their interviews, times, attendees and status."""
    candidate = of_account_or_404(Candidate, external_id)
    return render_template(
        "schedules/candidate.html", candidate=candidate, schedules=Schedule.of_candidate(account_id(), candidate)
    )


@bp.post("/check")
def check():
    """The form's conflict warnings for the interviews as they are filled in (nothing is saved)."""
    schedule = Schedule.of_account(account_id(), request.args.get("schedule")) if request.args.get("schedule") else None
    plan = check_plan(account_id(), ScheduleForm(account_id(), schedule).slots(), schedule)
    check_url = url_for("schedules.check", schedule=request.args.get("schedule"))
    return page_or_fragment(
        "schedules/check.html", "conflicts", conflicts=plan.conflicts, slots=plan.slots, check_url=check_url
    )
