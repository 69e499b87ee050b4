"""Setting a job up for scheduling in Docket: the job's defaults, each stage's decision (scheduled
through Docket or not), interview templates and rooms. Each set-up tells the inbox
(job.configured, stage.configured, interview.configured) so that the rulebook completes the
New Job, New Stage and New Interview tasks it resolves."""

from __future__ import annotations

from peewee import IntegrityError

from .db import database
from .models import InterviewTemplate, JobDefaults, Room, User, utcnow
from .scheduling.writing import emit


class Invalid(Exception):
    """The set-up could not be saved; `errors` says why, by form field."""

    def __init__(self, errors):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _people(account, ids):
    """The ids that are the account's people, in the order given."""
    found = {u.id for u in User.select(User.id).where(User.account == account, User.id.in_(ids))} if ids else set()
    return [i for i in ids if i in found]


def _job_record(job):
    return {"id": job.external_id, "name": job.name}


def configure_job(account, actor, job, scheduling_enabled, duration_minutes, interviewer_ids):
    """Set a job up: whether it is scheduled through Docket, its usual interview length (minutes,
    checked by the form) and interviewers (the account's); job.configured goes to the inbox."""
    people = _people(account, interviewer_ids)
    with database.atomic():
        defaults = JobDefaults.of_job(job) or JobDefaults(account=account, job=job)
        defaults.duration_minutes = duration_minutes
        defaults.interviewer_ids = people
        defaults.updated_by = actor
        defaults.updated_at = utcnow()
        defaults.save()
        job.scheduling_enabled = bool(scheduling_enabled)
        job.configured = True
        job.updated_at = utcnow()
        job.save()
    emit(
        account,
        "job.configured",
        {"job": {**_job_record(job), "scheduling_enabled": job.scheduling_enabled}, "actor": actor.as_person()},
    )
    return job


def configure_stage(account, actor, stage, scheduling_enabled):
    """Enable or decline scheduling for a stage; stage.configured goes to the inbox."""
    with database.atomic():
        stage.scheduling_enabled = bool(scheduling_enabled)
        stage.configured = True
        stage.updated_at = utcnow()
        stage.save()
    data = {
        "stage": {
            "id": stage.external_id,
            "name": stage.name,
            "scheduling_enabled": stage.scheduling_enabled,
            "configured": True,
        },
        "actor": actor.as_person(),
    }
    if stage.job_id:
        data["job"] = _job_record(stage.job)
    emit(account, "stage.configured", data)
    return stage


def add_interview_template(account, actor, interview, duration_minutes, interviewer_ids, needs_room, room_id):
    """Give an interview its template (length in minutes, checked by the form; the account's
    interviewers and room); interview.configured goes to the inbox. Raises Invalid."""
    errors = {}
    people = _people(account, interviewer_ids)
    if not people:
        errors["interviewers"] = "Choose at least one interviewer."
    room = None
    if room_id is not None:
        room = Room.get_or_none(Room.account == account, Room.id == room_id)
        if room is None:
            errors["room"] = "Choose one of the account's rooms."
    if errors:
        raise Invalid(errors)
    with database.atomic():
        template = InterviewTemplate.get_or_none(InterviewTemplate.interview == interview) or InterviewTemplate(
            account=account, interview=interview
        )
        template.duration_minutes = duration_minutes
        template.interviewer_ids = people
        template.needs_room = bool(needs_room or room)
        template.room = room
        template.updated_by = actor
        template.updated_at = utcnow()
        template.save()
        interview.has_template = True
        interview.updated_at = utcnow()
        interview.save()
    stage = interview.stage if interview.stage_id else None
    data = {
        "interview": {"id": interview.external_id, "name": interview.name, "has_template": True},
        "actor": actor.as_person(),
    }
    if stage is not None:
        data["stage"] = {"id": stage.external_id, "name": stage.name}
        if stage.job_id:
            data["job"] = _job_record(stage.job)
    emit(account, "interview.configured", data)
    return template


def add_room(account, name, email):
    """Add a bookable room (a calendar resource; its name and e-mail checked by the form). Raises
    Invalid when the account has a room with this e-mail already."""
    try:
        with database.atomic():
            return Room.create(account=account, name=name, email=email)
    except IntegrityError:
        raise Invalid({"email": "A room with this e-mail address already exists."}) from None
