"""A schedule's interviews as the coordinator sees them (slots): a first draft for a stage, or a
booked schedule's interviews for its edit form."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..calendars import Invitee
from ..models import Interview, InterviewTemplate, JobDefaults, Room, ScheduledInterview, User, utcnow
from ..timezones import next_working_slot

# How long an interview lasts when neither its template nor its job says.
DEFAULT_DURATION_MINUTES = 60


@dataclass
class Slot:
    """One interview of a schedule as the coordinator filled it in."""

    name: str = ""
    interview_id: int | None = None
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    interviewer_ids: list[int] = field(default_factory=list)
    room_id: int | None = None
    invite_candidate: bool = True
    # Filled in by check(): the account's records the ids name.
    interviewers: list = field(default_factory=list)
    room: Room | None = None

    @property
    def emails(self):
        """The e-mails booked by this interview: its interviewers and its room."""
        found = {u.email for u in self.interviewers}
        if self.room is not None:
            found.add(self.room.email)
        return found

    def invitees(self, candidate=None):
        """Who this interview invites: its interviewers, its room, and the candidate if asked to."""
        invited = [Invitee(u.email, u.name, "interviewer") for u in self.interviewers]
        if self.room is not None:
            invited.append(Invitee(self.room.email, self.room.name, "room"))
        if self.invite_candidate and candidate is not None and candidate.email:
            invited.append(Invitee(candidate.email, candidate.name, "candidate"))
        return invited


def slots_for_stage(account, stage, start=None, zone=dt.UTC):
    """A first draft for scheduling a stage: one interview per interview of the stage (or one for the
    stage itself), back to back from the next working-hours slot in the coordinator's `zone` (see
    timezones.next_working_slot), with templates' and job's defaults."""
    interviews = (
        list(Interview.select().where(Interview.stage == stage, ~Interview.deleted).order_by(Interview.id))
        if stage is not None
        else []
    )
    templates = InterviewTemplate.for_interviews(interviews)
    defaults = JobDefaults.of_job(stage.job_id) if stage is not None and stage.job_id else None
    start = start or next_working_slot(utcnow(), zone)
    slots = []
    for interview in interviews or [None]:
        template = templates.get(interview.id) if interview else None
        minutes = (
            (template.duration_minutes if template else None)
            or (interview.duration_minutes if interview else None)
            or (defaults.duration_minutes if defaults else None)
            or DEFAULT_DURATION_MINUTES
        )
        interviewer_ids = list(
            (template.interviewer_ids if template else None) or (defaults.interviewer_ids if defaults else [])
        )
        slots.append(
            Slot(
                name=(interview.name if interview else None) or (stage.name if stage else "Interview"),
                interview_id=interview.id if interview else None,
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=minutes),
                interviewer_ids=interviewer_ids,
                room_id=template.room_id if template else None,
            )
        )
        start += dt.timedelta(minutes=minutes)
    return slots


def slots_of(schedule):
    """A schedule's interviews as slots, for its edit form."""
    rooms = {r.email: r for r in Room.of_account(schedule.account_id)}
    slots = []
    for si in schedule.interviews.order_by(ScheduledInterview.starts_at, ScheduledInterview.id):
        attendees = list(si.attendees)
        people = [a.email for a in attendees if a.kind == "interviewer"]
        users = (
            {u.email: u.id for u in User.select().where(User.account == schedule.account_id, User.email.in_(people))}
            if people
            else {}
        )
        room = rooms.get(si.room_email) if si.room_email else None
        slots.append(
            Slot(
                name=si.name,
                interview_id=si.interview_id,
                starts_at=si.starts_at,
                ends_at=si.ends_at,
                interviewer_ids=[users[e] for e in people if e in users],
                room_id=room.id if room else None,
                invite_candidate=any(a.kind == "candidate" for a in attendees),
            )
        )
    return slots
