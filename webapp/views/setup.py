"""Set-up pages: a job (scheduling, default lengths and interviewers), a stage (enable or decline
scheduling), an interview's template, and the account's rooms."""

from flask import Blueprint, url_for
from flask_login import current_user

from .. import setup as service
from ..forms import InterviewTemplateForm, JobForm, RoomForm, StageForm
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


def _page(page, form, task, endpoint, row=None, **context):
    """A set-up page with its form, which posts to the page itself (for the row and the task it was
    opened from): a 422 when the form is sent back with its errors, else a 200."""
    here = url_for(endpoint, external_id=row.external_id, task=task.id if task else None) if row else url_for(endpoint)
    return form_page(
        page,
        "form",
        status=422 if form.has_errors else 200,
        form=form,
        action_url=here,
        **_common(task),
        **context,
    )


@bp.route("/jobs/<external_id>", methods=["GET", "POST"])
def job(external_id):
    """Set up a job: enable scheduling, its default interview length and interviewers."""
    job = of_account_or_404(Job, external_id)
    task = task_from_request()
    defaults = JobDefaults.of_job(job)
    form = JobForm(
        scheduling_enabled=job.scheduling_enabled if job.configured else True,
        duration_minutes=defaults.duration_minutes if defaults else 60,
        interviewers=defaults.interviewer_ids if defaults else [],
    )
    if form.validate_on_submit():
        service.configure_job(
            current_user.account,
            actor(),
            job,
            form.scheduling_enabled.data,
            form.duration_minutes.data,
            form.interviewers.data,
        )
        return finish(f"{job.name or 'The job'} is set up for scheduling.", task)
    return _page("setup/job.html", form, task, "setup.job", job, job=job, stages=Stage.live_of_job(job))


@bp.route("/stages/<external_id>", methods=["GET", "POST"])
def stage(external_id):
    """Enable or decline scheduling for a stage."""
    stage = of_account_or_404(Stage, external_id)
    task = task_from_request()
    form = StageForm()
    if form.validate_on_submit():
        enabled = form.scheduling.data == "enabled"
        service.configure_stage(current_user.account, actor(), stage, enabled)
        verb = "is scheduled through Docket" if enabled else "is not scheduled through Docket"
        return finish(f"{stage.name or 'The stage'} {verb}.", task)
    of_job = stage.job if stage.job_id else None
    interviews = Interview.live_of_stage(stage)
    return _page("setup/stage.html", form, task, "setup.stage", stage, stage=stage, job=of_job, interviews=interviews)


@bp.route("/interviews/<external_id>", methods=["GET", "POST"])
def interview(external_id):
    """Add (or change) an interview's template: its length, interviewers and room needs."""
    interview = of_account_or_404(Interview, external_id)
    task = task_from_request()
    template = InterviewTemplate.get_or_none(InterviewTemplate.interview == interview)
    stage = interview.stage if interview.stage_id else None
    job = stage.job if stage is not None and stage.job_id else None
    defaults = JobDefaults.of_job(job) if job is not None else None
    form = InterviewTemplateForm(
        duration_minutes=(template.duration_minutes if template else None)
        or interview.duration_minutes
        or (defaults.duration_minutes if defaults else 60),
        interviewers=template.interviewer_ids if template else (defaults.interviewer_ids if defaults else []),
        needs_room=template.needs_room if template else False,
        room=template.room_id if template else None,
    )
    if form.validate_on_submit():
        try:
            service.add_interview_template(
                current_user.account,
                actor(),
                interview,
                form.duration_minutes.data,
                form.interviewers.data,
                form.needs_room.data,
                form.room.data,
            )
        except service.Invalid as exc:
            form.add_errors(exc.errors)
        else:
            return finish(f"{interview.name or 'The interview'} has its interview template.", task)
    return _page(
        "setup/interview.html",
        form,
        task,
        "setup.interview",
        interview,
        interview=interview,
        stage=stage,
        job=job,
        template=template,
    )


@bp.route("/rooms", methods=["GET", "POST"])
def rooms():
    """The account's bookable rooms, and a form to add one."""
    task = task_from_request()
    form = RoomForm()
    if form.validate_on_submit():
        try:
            room = service.add_room(current_user.account, form.name.data, form.email.data)
        except service.Invalid as exc:
            form.add_errors(exc.errors)
        else:
            return finish(f"{room.name} can now be booked.", None, location=url_for("setup.rooms"))
    return _page("setup/rooms.html", form, task, "setup.rooms")
