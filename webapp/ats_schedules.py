"""Schedules made in the ATS: what Greenhouse's scheduled interviews, Ashby's interview schedules
and Lever's interviews say, resolved against the mirror (and kept in it like Docket's own
schedules) into the schedule.created / schedule.updated / schedule.cancelled events their changes
raise (with `source` the ATS). The pipeline resolves the adapters' reports; Harvest's sync, its
listings.

An adapter reports a schedule as the ATS has it now (`schedule.reported`: its interviews as
schedule_changes describes them, each with the ATS's id) or one of its interviews removed
(`schedule.interview_removed`); this module compares it with what the mirror last had: a first
sighting is schedule.created, a change of times, interviewers or location is schedule.updated with
the `changes` rules complete declines by, and a schedule left with no interview is
schedule.cancelled. What changes nothing a coordinator acts on (an answer, a status the ATS moves
along after the interview) updates the mirror and raises nothing. Lever names no stage for its
interviews (`schedule.changed`): theirs is for the stage the application is in.
"""

from __future__ import annotations

import hashlib
import json
import logging

from . import mirror, schedule_changes
from .envelope import envelope, record
from .models import Application, Attendee, Schedule, ScheduledInterview, Stage, to_utc

log = logging.getLogger(__name__)

# The envelopes adapters make that this module resolves, by type.
REPORTS = ("schedule.reported", "schedule.interview_removed", "schedule.changed")

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
    record_it=True,
):
    """The Docket event a schedule made in the ATS raises, as it is now, against the mirror; with
    `record_it`, the mirror then has it as it is now.

    Returns (events, tracked): `events` is `[event]`, or `[]` when nothing is for the rulebook;
    `tracked` is False for a schedule never booked that Docket has not seen (nothing to do at all).

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
        return [], False  # never booked as far as Docket knows: nothing to undo
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
    if record_it:
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
        return [], True
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
    return [event], True


def _id_of(data, name):
    rec = data.get(name)
    return rec.get("id") if isinstance(rec, dict) else None


def resolve(account, report, record_it=True):
    """The Docket events an adapter's report of an ATS schedule (a type in REPORTS) raises against
    the mirror, as `schedule_event` returns them; with `record_it`, the mirror keeps the schedule."""
    data = report.get("data") or {}
    source, event_id, occurred_at = report["source"], report["id"], report["occurred_at"]
    if report["type"] == "schedule.changed":
        return _for_current_stage(account, report)
    if report["type"] == "schedule.interview_removed":
        scheduled_id = _id_of(data, "scheduled_interview")
        si = scheduled_interview(account, source, scheduled_id)
        if si is None:
            log.info(
                "scheduled interview %s deleted in %s is unknown to the mirror; nothing to do", scheduled_id, source
            )
            return [], False
        schedule = si.schedule
        remaining = [i for i in described(schedule) if i["external_id"] != str(scheduled_id)]
        return schedule_event(
            account, source, event_id, occurred_at, schedule.external_id, remaining, record_it=record_it
        )
    schedule = data.get("schedule") or {}
    return schedule_event(
        account,
        source,
        event_id,
        occurred_at,
        schedule["id"],
        data.get("interviews") or [],
        application_id=_id_of(data, "application"),
        stage_id=_id_of(data, "stage"),
        cancelled=bool(data.get("cancelled")),
        organizer=schedule.get("organizer"),
        actor=data.get("actor"),
        candidate=data.get("candidate"),
        record_it=record_it,
    )


def _for_current_stage(account, report):
    """A Lever interview's schedule event, for the stage the mirror has the application in (else
    the stage Lever's API named); none when neither is known: nothing to resolve or to reschedule."""
    data = dict(report["data"])
    change = data.pop("change")
    application = mirror.find(Application, account, _id_of(data, "application"))
    if application is not None and application.stage_id is not None:
        stage = application.stage
        data["stage"] = record(id=stage.external_id, name=stage.name or None)
    if not data.get("stage"):
        return [], False
    return [dict(report, type=f"schedule.{change}", data=data)], True
