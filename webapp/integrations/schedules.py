"""Schedules made in the ATS: what Greenhouse's scheduled interviews and Ashby's interview
schedules say, kept in the mirror like Docket's own schedules, and the schedule.created /
schedule.updated / schedule.cancelled events their changes raise (with `source` the ATS).

An adapter gives the schedule as the ATS has it now (its interviews as schedule_changes describes
them, each with the ATS's id); this module compares it with what the mirror last had: a first
sighting is schedule.created, a change of times, interviewers or location is schedule.updated with
the `changes` rules complete declines by, and a schedule left with no interview is
schedule.cancelled. What changes nothing a coordinator acts on (an answer, a status the ATS moves
along after the interview) updates the mirror and raises nothing.
"""

from __future__ import annotations

import hashlib
import json

from .. import mirror, schedule_changes
from ..models import Application, Attendee, Schedule, ScheduledInterview, Stage, to_utc
from .base import MirrorOnly, envelope, record

VENDOR_NAMES = {"greenhouse": "Greenhouse", "ashby": "Ashby"}


def described(schedule):
    """A mirrored schedule's interviews as schedule_changes describes them (with their ATS ids)."""
    interviews = []
    for si in schedule.interviews.order_by(ScheduledInterview.starts_at, ScheduledInterview.id):
        interviews.append(
            {
                "external_id": si.external_id,
                "name": si.name,
                "starts_at": si.starts_at,
                "ends_at": si.ends_at,
                "location": si.room_name if not si.room_email else None,
                "attendees": [
                    {"email": a.email, "name": a.name, "kind": a.kind} for a in si.attendees.order_by(Attendee.id)
                ],
            }
        )
    return interviews


def scheduled_interview(account, source, external_id):
    """The mirrored interview of a schedule `source` made, by the ATS's id for it, or None."""
    return (
        ScheduledInterview.select(ScheduledInterview, Schedule)
        .join(Schedule)
        .where(
            ScheduledInterview.account == account,
            ScheduledInterview.external_id == str(external_id),
            Schedule.source == source,
        )
        .first()
    )


def live_schedule(account, source, application_id, stage_id):
    """The schedule `source` made for an application's stage that is not cancelled, or None."""
    application = mirror.find(Application, account, application_id)
    if application is None:
        return None
    query = Schedule.select().where(
        Schedule.account == account,
        Schedule.source == source,
        Schedule.application == application,
        Schedule.status != "cancelled",
    )
    stage = mirror.find(Stage, account, stage_id) if stage_id is not None else None
    query = query.where(Schedule.stage == stage) if stage is not None else query.where(Schedule.stage.is_null())
    return query.order_by(Schedule.id).first()


def _paired(before, after):
    """The two versions in the order schedule_changes pairs them: the same ATS interview at the
    same position, new interviews after the kept ones, and removed ones after those."""
    old = {str(i["external_id"]): i for i in before}
    new_ids = [str(i["external_id"]) for i in after]
    kept = [i for i in after if str(i["external_id"]) in old]
    added = [i for i in after if str(i["external_id"]) not in old]
    gone = [i for i in before if str(i["external_id"]) not in new_ids]
    return [old[str(i["external_id"])] for i in kept] + gone, kept + added


def fingerprint(interviews):
    """A short stable digest of a schedule's interviews: event ids made from it repeat on a re-sync."""
    text = json.dumps(
        sorted(
            [
                str(i["external_id"]),
                str(i["starts_at"]),
                str(i["ends_at"]),
                i.get("location") or "",
                sorted(f"{a.get('kind')}:{str(a['email']).lower()}" for a in i.get("attendees") or ()),
            ]
            for i in interviews
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _candidate_name(account, application_id, candidate):
    if candidate and candidate.get("name"):
        return candidate["name"]
    application = mirror.find(Application, account, application_id) if application_id is not None else None
    if application is not None and application.candidate_id and application.candidate.name:
        return application.candidate.name
    return "the candidate"


def _stage_words(account, stage_id):
    stage = mirror.find(Stage, account, stage_id) if stage_id is not None else None
    return (stage.name if stage is not None and stage.name else "interview").lower()


def schedule_event(
    account,
    source,
    event_id,
    occurred_at,
    schedule_id,
    interviews,
    application_id=None,
    stage_id=None,
    cancelled=False,
    organizer=None,
    actor=None,
    candidate=None,
):
    """Mirror a schedule made in the ATS as it is now and return, as an adapter does, the Docket
    event its change raises: `[event]`; `MirrorOnly()` when the mirror changed but nothing is for
    the rulebook; `[]` for a schedule never booked that Docket has not seen.

    `interviews` are the schedule's interviews now (see mirror.record_ats_schedule); `cancelled`
    says the ATS cancelled the schedule, as does a schedule left with none. `actor` is the person
    the ATS says booked the schedule: named on schedule.created only, since the one who booked a
    schedule is not who edited or cancelled it.
    """
    # Times as the mirror keeps them (aware datetimes), so that the same time compares equal.
    interviews = [dict(i, starts_at=to_utc(i["starts_at"]), ends_at=to_utc(i["ends_at"])) for i in interviews]
    schedule = mirror.find(Schedule, account, schedule_id)
    if schedule is not None and schedule.source != source:
        raise ValueError(f"schedule {schedule_id} was not made in {source}")
    known = schedule is not None and schedule.status != "cancelled"
    live = bool(interviews) and not cancelled
    if not known and not live:
        return []  # never booked as far as Docket knows: nothing to undo
    if application_id is None and schedule is not None and schedule.application_id:
        application_id = schedule.application.external_id
    if stage_id is None and schedule is not None and schedule.stage_id:
        stage_id = schedule.stage.external_id
    before = described(schedule) if known else []
    vendor = VENDOR_NAMES.get(source, source)
    changes = None
    if not known:
        etype = "schedule.created"
        if actor:
            who = _candidate_name(account, application_id, candidate)
            changes = {"summary": f"scheduled {who} for the {_stage_words(account, stage_id)} in {vendor}"}
    elif not live:
        etype = "schedule.cancelled"
    else:
        etype = "schedule.updated"
        changes = schedule_changes.describe(*_paired(before, interviews))
        if not changes["interviews"]:
            etype = None
        else:
            changes["summary"] = f"{changes['summary']} the {_stage_words(account, stage_id)}"
    mirror.record_ats_schedule(
        account,
        source,
        schedule_id,
        interviews,
        application_id=application_id,
        stage_id=stage_id,
        status="scheduled" if live else "cancelled",
        organizer=organizer,
    )
    if etype is None:
        return MirrorOnly()
    event = envelope(
        source,
        event_id,
        etype,
        occurred_at,
        schedule=record(id=schedule_id, status="scheduled" if live else "cancelled", organizer=organizer),
        application=record(id=application_id) if application_id is not None else None,
        stage=record(id=stage_id) if stage_id is not None else None,
        candidate=record(**candidate) if candidate and candidate.get("id") is not None else None,
        actor=actor if etype == "schedule.created" else None,
        changes=changes,
    )
    return [event]
