"""The benchmark's events: what an account's ATS and calendars send on a busy day, in an order in
which tasks open and complete, so completions, their history and the races between workers are
exercised.

Each application goes through four events, in order: it moves into a stage (a Ready to Schedule
task opens), a schedule is made for that stage (the task completes), the schedule is cancelled
(a Schedule Cancelled task opens) and the application moves on to the next stage (that task
completes, another Ready to Schedule opens). Every tenth event is a new job (a New Job task).
Applications are interleaved, as many candidates' events are in a real inbox.

`hot=True` puts every application on three jobs and their first stages: many events about the
same job and stage rows at once, as in an account hiring for one role.
"""

JOBS = 50
HOT_JOBS = 3
STEPS = 4  # events per application, in the order above
COORDINATORS = 7


def _time(i):
    return f"2026-11-28T{9 + (i // 3600) % 10:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z"


def _person(n):
    return {"email": f"coordinator{n % COORDINATORS}@bench.test", "name": f"Coordinator {n % COORDINATORS}"}


def events(n, hot=False):
    """n envelopes of the mix, in the order they arrive."""
    out = []
    lanes = max(1, n // 40)  # applications in flight at once
    step_of = {}
    application = 0
    while len(out) < n:
        i = len(out)
        if i % 10 == 9:
            out.append(
                {
                    "id": f"e{i}",
                    "type": "job.created",
                    "occurred_at": _time(i),
                    "data": {"job": {"id": f"job-new-{i}", "name": f"Job {i}", "coordinator": _person(i)}},
                }
            )
            continue
        lane = i % lanes
        current = step_of.get(lane)
        if current is None or current[1] == STEPS:
            current = step_of[lane] = [application, 0]
            application += 1
        app_index, step = current
        current[1] += 1
        out.append(_step(i, app_index, step, hot))
    return out


def _step(i, app_index, step, hot):
    job_index = app_index % (HOT_JOBS if hot else JOBS)
    job = {"id": f"job-{job_index}", "name": f"Job {job_index}", "coordinator": _person(job_index)}
    candidate = {"id": f"cand-{app_index}", "name": f"Candidate {app_index}", "coordinator": _person(app_index)}
    first = 0 if hot else app_index % 5
    stages = [
        {"id": f"stage-{job_index}-{first + k}", "name": f"Round {first + k}", "scheduling_enabled": True}
        for k in range(2)
    ]
    data = {"application": {"id": f"app-{app_index}"}, "candidate": candidate, "job": job}
    schedule = {"id": f"sched-{app_index}"}
    if step == 0:
        etype, data = "application.stage_changed", dict(data, stage=stages[0])
    elif step == 1:
        actor = {"email": "coordinator1@bench.test", "name": "Coordinator 1"}
        etype, data = "schedule.created", dict(data, stage=stages[0], schedule=schedule, actor=actor, changes={})
    elif step == 2:
        etype, data = "schedule.cancelled", dict(data, stage=stages[0], schedule=dict(schedule, status="cancelled"))
    else:
        etype, data = "application.stage_changed", dict(data, stage=stages[1], previous_stage=stages[0])
    return {"id": f"e{i}", "type": etype, "occurred_at": _time(i), "data": data}
