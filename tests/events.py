"""Envelopes for tests, one builder per event type, with realistic records."""

import datetime as dt
import itertools

_ids = itertools.count(1)
BASE_TIME = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)

PAT = {"email": "pat.coordinator@acme.test", "name": "Pat Coordinator"}
JO = {"email": "jo.recruiter@acme.test", "name": "Jo Recruiter"}
JOB = {"id": "job-1", "name": "Senior Backend Engineer", "coordinator": JO}
ONSITE = {"id": "stage-onsite", "name": "Onsite", "scheduling_enabled": True}
SCREEN = {"id": "stage-screen", "name": "Phone Screen", "scheduling_enabled": True}
OFFER = {"id": "stage-offer", "name": "Offer", "scheduling_enabled": False}
CANDIDATE = {"id": "cand-1", "name": "Jordan Lee", "email": "jordan@example.com", "coordinator": PAT}
APPLICATION = {"id": "app-1"}
SCHEDULE = {"id": "sched-1"}
INTERVIEWER = {"email": "dana.wu@acme.test", "name": "Dana Wu", "kind": "interviewer"}
ROOM = {"email": "room-4a@resource.acme.test", "name": "Room 4A", "kind": "room"}
CANDIDATE_ATTENDEE = {"email": "jordan@example.com", "name": "Jordan Lee", "kind": "candidate"}
INTEGRATION = {"id": "google-calendar", "kind": "calendar", "provider": "google", "name": "Google Calendar"}


def at(minutes):
    """BASE_TIME plus some minutes, as the ISO string an envelope carries."""
    return (BASE_TIME + dt.timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def envelope(etype, minutes=0, event_id=None, **data):
    return {"id": event_id or f"evt-{next(_ids)}", "type": etype, "occurred_at": at(minutes), "data": data}


def stage_changed(stage=ONSITE, previous=None, minutes=0, application=APPLICATION, candidate=CANDIDATE, **kw):
    data = {"application": application, "candidate": candidate, "job": JOB, "stage": stage}
    if previous:
        data["previous_stage"] = previous
    return envelope("application.stage_changed", minutes, **data, **kw)


def application_closed(minutes=0, reason="rejected", application=APPLICATION):
    return envelope("application.closed", minutes, application=application, candidate=CANDIDATE, job=JOB, reason=reason)


def schedule_event(kind, minutes=0, stage=ONSITE, schedule=SCHEDULE, application=APPLICATION, changes=None):
    return envelope(
        f"schedule.{kind}",
        minutes,
        schedule=schedule,
        application=application,
        candidate=CANDIDATE,
        job=JOB,
        stage=stage,
        actor=PAT,
        changes=changes or {},
    )


def replaced(attendee):
    """The `changes` of an edit that no longer invites `attendee` (an interviewer replaced, a room switched)."""
    return {"summary": "edited the onsite", "removed_attendees": [attendee["email"]], "rescheduled_attendees": []}


def moved(*attendees):
    """The `changes` of an edit that moved the interview these attendees are invited to."""
    return {
        "summary": "rescheduled the onsite",
        "removed_attendees": [],
        "rescheduled_attendees": [a["email"] for a in attendees],
        "moved": True,
    }


def responded(attendee, response, minutes=0, schedule=SCHEDULE, stage=ONSITE):
    return envelope(
        "attendee.responded",
        minutes,
        schedule=schedule,
        application=APPLICATION,
        candidate=CANDIDATE,
        job=JOB,
        stage=stage,
        attendee=attendee,
        response=response,
    )


def job_event(kind, minutes=0, job=JOB, **extra):
    return envelope(f"job.{kind}", minutes, job=job, **extra)


def stage_event(kind, minutes=0, stage=ONSITE, **extra):
    return envelope(f"stage.{kind}", minutes, job=JOB, stage=stage, **extra)


INTERVIEW = {"id": "int-1", "name": "System Design"}


def interview_event(kind, minutes=0, interview=INTERVIEW, **extra):
    return envelope(f"interview.{kind}", minutes, job=JOB, stage=ONSITE, interview=interview, **extra)


def integration_event(kind, minutes=0, integration=INTEGRATION):
    error = {"code": "invalid_grant", "message": "Google no longer accepts Docket's credentials"}
    return envelope(f"integration.{kind}", minutes, integration=integration, error=error)
