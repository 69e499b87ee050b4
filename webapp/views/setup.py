"""Set-up pages: a job (scheduling, default lengths and interviewers), a stage (enable or decline
scheduling), an interview's template, and the account's rooms."""

from flask import Blueprint, request, url_for
from flask_login import current_user

from .. import setup as service
from ..models import Interview, InterviewTemplate, Job, JobDefaults, Room, Stage, User
from .forms import account_id, actor, finish, form_page, of_account_or_404, signed_in_only, task_from_request

bp = Blueprint("setup", __name__, url_prefix="/setup")


signed_in_only(bp)


def _common(task):
    return {
        "task": task,
        "people": User.coordinators_of(account_id()),
        "rooms": Room.of_account(account_id()),
        "back_url": url_for("tasks.detail", task_id=task.id) if task else url_for("tasks.index"),
    }


@bp.route("/jobs/<external_id>", methods=["GET", "POST"])
def job(external_id):
    """Set up a job: enable scheduling, its default interview length and interviewers."""
    job = of_account_or_404(Job, external_id)
    task = task_from_request()
    defaults = JobDefaults.of_job(job)
    stages = Stage.live_of_job(job)
    values = {
        "scheduling_enabled": job.scheduling_enabled if job.configured else True,
        "duration_minutes": defaults.duration_minutes if defaults else 60,
        "interviewer_ids": defaults.interviewer_ids if defaults else [],
    }
    errors, status = {}, 200
    if request.method == "POST":
        values = {
            "scheduling_enabled": request.form.get("scheduling_enabled") in ("1", "on"),
            "duration_minutes": request.form.get("duration_minutes", ""),
            "interviewer_ids": [int(v) for v in request.form.getlist("interviewers") if v.isdigit()],
        }
        try:
            service.configure_job(
                current_user.account,
                actor(),
                job,
                values["scheduling_enabled"],
                values["duration_minutes"],
                values["interviewer_ids"],
            )
        except service.Invalid as exc:
            errors, status = exc.errors, 422
        else:
            return finish(f"{job.name or 'The job'} is set up for scheduling.", task)
    return form_page(
        "setup/job.html",
        "form",
        status=status,
        job=job,
        stages=stages,
        values=values,
        errors=errors,
        action_url=url_for("setup.job", external_id=job.external_id, task=task.id if task else None),
        **_common(task),
    )


@bp.route("/stages/<external_id>", methods=["GET", "POST"])
def stage(external_id):
    """Enable or decline scheduling for a stage."""
    stage = of_account_or_404(Stage, external_id)
    task = task_from_request()
    if request.method == "POST":
        choice = request.form.get("scheduling")
        if choice in ("enabled", "declined"):
            service.configure_stage(current_user.account, actor(), stage, choice == "enabled")
            verb = "is scheduled through Docket" if choice == "enabled" else "is not scheduled through Docket"
            return finish(f"{stage.name or 'The stage'} {verb}.", task)
        errors, status = {"scheduling": "Choose whether Docket schedules this stage."}, 422
    else:
        errors, status = {}, 200
    interviews = Interview.live_of_stage(stage)
    return form_page(
        "setup/stage.html",
        "form",
        status=status,
        stage=stage,
        job=stage.job if stage.job_id else None,
        interviews=interviews,
        errors=errors,
        action_url=url_for("setup.stage", external_id=stage.external_id, task=task.id if task else None),
        **_common(task),
    )


@bp.route("/interviews/<external_id>", methods=["GET", "POST"])
def interview(external_id):
    """Add (or change) an interview's template: its length, interviewers and room needs."""
    interview = of_account_or_404(Interview, external_id)
    task = task_from_request()
    template = InterviewTemplate.get_or_none(InterviewTemplate.interview == interview)
    stage = interview.stage if interview.stage_id else None
    job = stage.job if stage is not None and stage.job_id else None
    defaults = JobDefaults.of_job(job) if job is not None else None
    values = {
        "duration_minutes": (template.duration_minutes if template else None)
        or interview.duration_minutes
        or (defaults.duration_minutes if defaults else 60),
        "interviewer_ids": template.interviewer_ids if template else (defaults.interviewer_ids if defaults else []),
        "needs_room": template.needs_room if template else False,
        "room_id": template.room_id if template else None,
    }
    errors, status = {}, 200
    if request.method == "POST":
        room = request.form.get("room", "")
        values = {
            "duration_minutes": request.form.get("duration_minutes", ""),
            "interviewer_ids": [int(v) for v in request.form.getlist("interviewers") if v.isdigit()],
            "needs_room": request.form.get("needs_room") in ("1", "on"),
            "room_id": int(room) if room.isdigit() else None,
        }
        try:
            service.add_interview_template(
                current_user.account,
                actor(),
                interview,
                values["duration_minutes"],
                values["interviewer_ids"],
                values["needs_room"],
                room,
            )
        except service.Invalid as exc:
            errors, status = exc.errors, 422
        else:
            return finish(f"{interview.name or 'The interview'} has its interview template.", task)
    return form_page(
        "setup/interview.html",
        "form",
        status=status,
        interview=interview,
        stage=stage,
        job=job,
        template=template,
        values=values,
        errors=errors,
        action_url=url_for("setup.interview", external_id=interview.external_id, task=task.id if task else None),
        **_common(task),
    )


@bp.route("/rooms", methods=["GET", "POST"])
def rooms():
    """The account's bookable rooms, and a form to add one."""
    task = task_from_request()
    values, errors, status = {"name": "", "email": ""}, {}, 200
    if request.method == "POST":
        values = {"name": request.form.get("name", ""), "email": request.form.get("email", "")}
        try:
            room = service.add_room(current_user.account, values["name"], values["email"])
        except service.Invalid as exc:
            errors, status = exc.errors, 422
        else:
            return finish(f"{room.name} can now be booked.", None, location=url_for("setup.rooms"))
    return form_page(
        "setup/rooms.html",
        "form",
        status=status,
        values=values,
        errors=errors,
        action_url=url_for("setup.rooms"),
        **_common(task),
    )
