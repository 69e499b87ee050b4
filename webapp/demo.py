"""Demo data: an account with coordinators, jobs and candidates, and events played through
the real pipeline (inbox, worker, rulebook), so a first `make run` shows a living list."""

import datetime as dt
import random
import secrets
from pathlib import Path

from .config import VAR
from .db import database
from .inbox import accept
from .models import (
    Account,
    AccountCreator,
    Application,
    Attendee,
    Candidate,
    Event,
    Integration,
    Job,
    Room,
    Stage,
    User,
    utcnow,
)

DEMO_ACCOUNT = "Acme Demo"
LEVER_FAILURE = "Lever refused the API key (401): the key was revoked"
CREDENTIALS_FILE = VAR / "demo-credentials.txt"

COORDINATORS = [
    ("alex.kim@acme.test", "Alex Kim", True),
    ("sam.rivera@acme.test", "Sam Rivera", False),
    ("priya.shah@acme.test", "Priya Shah", False),
]
JOBS = [
    ("job-101", "Senior Backend Engineer", ["Recruiter Screen", "Technical Interview", "Onsite", "Offer"]),
    ("job-102", "Product Designer", ["Portfolio Review", "Design Exercise", "Onsite"]),
    ("job-103", "Account Executive", ["Phone Screen", "Sales Pitch", "Final Round"]),
]
CANDIDATES = [
    "Jordan Lee",
    "Maria Garcia",
    "Wei Chen",
    "Amara Okafor",
    "Lukas Becker",
    "Sofia Rossi",
    "Noah Cohen",
    "Aisha Khan",
    "Mateo Silva",
    "Hana Sato",
    "Ethan Brown",
    "Zoe Martin",
]


def _envelope(event_id, etype, occurred_at, **data):
    return {
        "id": event_id,
        "source": "docket",
        "type": etype,
        "occurred_at": occurred_at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }


def demo_events(coordinators, now=None, integration=None):
    """The demo's story as envelopes, oldest first; `integration` (a record) is the one that breaks."""
    rng = random.Random(7)
    now = now or dt.datetime.now(dt.UTC)
    t = now - dt.timedelta(days=3)
    people = [{"email": e, "name": n} for e, n, _ in coordinators]
    events = []

    def at(minutes):
        nonlocal t
        t = t + dt.timedelta(minutes=minutes)
        return t

    for job_id, job_name, _stages in JOBS:
        job = {"id": job_id, "name": job_name, "coordinator": rng.choice(people)}
        events.append(_envelope(f"demo-{job_id}-created", "job.created", at(30), job=job))
    # A job with a new stage and interview to set up (New Job, New Stage, New Interview tasks).
    job_104 = {"id": "job-104"}
    case_study = {"id": "job-104-s1", "name": "Case Study"}
    presentation = {"id": "job-104-i1", "name": "Case Study Presentation"}
    events += [
        _envelope(
            "demo-job-104-created", "job.created", at(20), job=dict(job_104, name="Data Analyst", coordinator=people[0])
        ),
        _envelope("demo-stage-104-1", "stage.created", at(5), job=job_104, stage=case_study),
        _envelope(
            "demo-interview-104-1", "interview.created", at(5), job=job_104, stage=case_study, interview=presentation
        ),
    ]
    for n, name in enumerate(CANDIDATES):
        job_id, job_name, stages = JOBS[n % len(JOBS)]
        stage_index = 1 + n % (len(stages) - 1)
        stage_id = f"{job_id}-s{stage_index + 1}"
        candidate = {
            "id": f"cand-{n + 1}",
            "name": name,
            "email": name.lower().replace(" ", ".") + "@example.com",
            "coordinator": people[n % len(people)],
        }
        events.append(
            _envelope(
                f"demo-move-{n + 1}",
                "application.stage_changed",
                at(rng.randint(20, 90)),
                application={"id": f"app-{n + 1}"},
                candidate=candidate,
                job={"id": job_id, "name": job_name},
                stage={"id": stage_id, "name": stages[stage_index]},
            )
        )
    if integration is not None:
        events.append(
            _envelope(
                "demo-integration-1",
                "integration.failed",
                at(15),
                integration=integration,
                error={"code": "http_401", "message": LEVER_FAILURE},
            )
        )
    return events


def load_demo(credentials_file=CREDENTIALS_FILE):
    """Create the demo account and queue its events; returns {e-mail: password}.

    The passwords are also written (readable by the owner only) to credentials_file,
    so that every `make run` can show them.
    """
    passwords = {}
    with database.atomic():
        account = Account.create(name=DEMO_ACCOUNT)
        for email, name, admin in COORDINATORS:
            user = User.for_email(account, email, name)
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.is_admin = admin
            user.save()
            passwords[email] = password
        AccountCreator.create(account=account, user=User.get(User.account == account, User.email == COORDINATORS[0][0]))
        # Scheduling is set up in Docket for every stage but the first of each job.
        for job_id, job_name, stages in JOBS:
            job = Job.create(
                account=account, external_id=job_id, name=job_name, scheduling_enabled=True, configured=True
            )
            for i, stage_name in enumerate(stages):
                Stage.create(
                    account=account,
                    job=job,
                    external_id=f"{job_id}-s{i + 1}",
                    name=stage_name,
                    position=i,
                    scheduling_enabled=i > 0,
                    configured=True,
                    updated_at=utcnow(),
                )
        # Lever's API refused its key: a real (failing) integration, so that its task's action
        # lands on its failure. Lever's key is only used for look-ups when its webhooks come.
        lever = Integration.create(
            account=account,
            provider="lever",
            webhook_secret=secrets.token_urlsafe(16),
            api_key=secrets.token_urlsafe(16),
            status=Integration.FAILING,
            last_error=LEVER_FAILURE,
            owner_email=COORDINATORS[0][0],
        )
    events = demo_events(COORDINATORS, integration=lever.as_record())
    for envelope in events:
        accept(account, "docket", envelope["id"], envelope, type=envelope["type"], occurred_at=envelope["occurred_at"])
    _book_demo_schedules(account, events)
    credentials_file = Path(credentials_file)
    credentials_file.parent.mkdir(parents=True, exist_ok=True)
    credentials_file.write_text("".join(f"{e}  {p}\n" for e, p in passwords.items()))
    credentials_file.chmod(0o600)
    return passwords


# Interviewers (Docket users who never sign in) and rooms the demo's schedules book.
INTERVIEWERS = [
    ("dana.wu@acme.test", "Dana Wu"),
    ("sam.lee@acme.test", "Sam Lee"),
    ("lee.park@acme.test", "Lee Park"),
]
ROOMS = [("Room 4A", "room-4a@resource.acme.test"), ("Room 5B", "room-5b@resource.acme.test")]
# The candidates (by position in CANDIDATES) who get scheduled: the first one's interviewer
# declines, the second one's schedule is cancelled.
SCHEDULED = (1, 2)


def _book_demo_schedules(account, events):
    """Book two candidates through Docket's own scheduling, as a coordinator would (interviews with
    interviewers and a room on the in-memory calendar); then an interviewer declines one invite and
    the other schedule is cancelled. Each step goes to the inbox as Docket's own events do."""
    from . import scheduling

    interviewers = [User.for_email(account, email, name) for email, name in INTERVIEWERS]
    rooms = [Room.create(account=account, name=name, email=email) for name, email in ROOMS]
    moves = {e["data"]["application"]["id"]: e["data"] for e in events if e["type"] == "application.stage_changed"}
    tomorrow = (utcnow() + dt.timedelta(days=1)).replace(hour=15, minute=0, second=0, microsecond=0)
    booked = []
    for n in SCHEDULED:
        move = moves[f"app-{n + 1}"]
        actor = User.get(User.account == account, User.email == move["candidate"]["coordinator"]["email"])
        job = Job.by_external_id(account.id, move["job"]["id"])
        stage = Stage.by_external_id(account.id, move["stage"]["id"])
        candidate = Candidate.create(
            account=account,
            external_id=move["candidate"]["id"],
            name=move["candidate"]["name"],
            email=move["candidate"]["email"],
            coordinator=actor,
        )
        application = Application.create(
            account=account, external_id=move["application"]["id"], candidate=candidate, job=job, stage=stage
        )
        starts_at = tomorrow + dt.timedelta(hours=2 * len(booked))
        slot = scheduling.Slot(
            name=stage.name,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(hours=1),
            interviewer_ids=[interviewers[len(booked)].id, interviewers[2].id],
            room_id=rooms[len(booked)].id,
        )
        plan = scheduling.check(account, [slot])
        booked.append(scheduling.create_schedule(account, actor, application, stage, plan.slots))
    declined, cancelled = booked
    # Dana Wu declines the first invite: the calendar sync would say so with these records.
    dana = declined.interviews.get().attendees.where(Attendee.email == INTERVIEWERS[0][0]).get()
    dana.response = "declined"
    dana.save()
    scheduling.emit(
        account,
        "attendee.responded",
        {
            "schedule": {"id": declined.external_id},
            "attendee": {"email": dana.email, "name": dana.name, "kind": dana.kind},
            "response": "declined",
        },
    )
    scheduling.cancel_schedule(account, cancelled.organizer, cancelled)


def live_event(account, n, now=None):
    """The n-th event of the demo's live stream: a candidate moves into a stage ready to be
    scheduled, and every third time, one who moved earlier gets scheduled."""
    rng = random.Random(n)
    now = now or dt.datetime.now(dt.UTC)
    people = [{"email": e, "name": name} for e, name, _ in COORDINATORS]
    job_id, job_name, stages = JOBS[n % len(JOBS)]
    stage_index = 1 + rng.randrange(len(stages) - 1)
    stage = {"id": f"{job_id}-s{stage_index + 1}", "name": stages[stage_index]}
    if n % 3 == 2:
        earlier = n - 2
        e_job_id, _, e_stages = JOBS[earlier % len(JOBS)]
        e_rng = random.Random(earlier)
        e_index = 1 + e_rng.randrange(len(e_stages) - 1)
        return _envelope(
            f"demo-live-{n}",
            "schedule.created",
            now,
            schedule={"id": f"demo-live-sched-{n}"},
            application={"id": f"demo-live-app-{earlier}"},
            candidate={"id": f"demo-live-cand-{earlier}"},
            job={"id": e_job_id},
            stage={"id": f"{e_job_id}-s{e_index + 1}"},
            actor=people[n % len(people)],
            changes={"summary": "scheduled"},
        )
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    candidate = {
        "id": f"demo-live-cand-{n}",
        "name": f"{first} {last}",
        "email": f"{first}.{last}@example.com".lower(),
        "coordinator": people[n % len(people)],
    }
    return _envelope(
        f"demo-live-{n}",
        "application.stage_changed",
        now,
        application={"id": f"demo-live-app-{n}"},
        candidate=candidate,
        job={"id": job_id, "name": job_name},
        stage=stage,
    )


FIRST_NAMES = ["Ava", "Liam", "Mia", "Omar", "Ines", "Kenji", "Lena", "Ravi", "Nora", "Tomas", "Yara", "Felix"]
LAST_NAMES = ["Novak", "Haddad", "Lindqvist", "Mensah", "Petrov", "Quinn", "Duarte", "Ito", "Keller", "Abebe"]


def play_live(app, stop, interval=45.0):
    """Until `stop` is set, every `interval` seconds put the next live demo event in the inbox."""
    with app.app_context():
        while not stop.wait(interval):
            account = Account.get_or_none(Account.name == DEMO_ACCOUNT)
            if account is None:
                return
            with database.connection_context():
                n = Event.select().where(Event.account == account, Event.external_id.startswith("demo-live-")).count()
                event = live_event(account, n)
                accept(account, "docket", event["id"], event, type=event["type"], occurred_at=event["occurred_at"])
