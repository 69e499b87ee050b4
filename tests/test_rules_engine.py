"""The engine: matchers, explain, and the task semantics of apply_event (dedupe, resolve before open, order)."""

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.rules import MemoryStore, apply_event, load_rulebook_file
from webapp.rules.engine import evaluate, explain, normalise_event
from webapp.rules.matchers import AnyOf, Contains, Equals, Exists, Matcher, Not, lookup

RULEBOOK = load_rulebook_file(Path(__file__).parents[1] / "rules.yaml")
T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
ACCOUNT = {"name": "Acme", "creator": {"email": "founder@acme.test", "name": "Fran"}}
CANDIDATE = {"id": "c1", "name": "Ada", "coordinator": {"email": "pat@acme.test", "name": "Pat"}}
JOB = {"id": "j1", "name": "Backend", "coordinator": {"email": "jo@acme.test"}}


def stage(stage_id, enabled=True):
    return {"id": stage_id, "name": f"Stage {stage_id}", "scheduling_enabled": enabled}


def stage_changed(app="a1", to="s2", previous="s1", minutes=0, enabled=True, event_id=None):
    return {
        "id": event_id or f"moved-{app}-{to}-{minutes}",
        "source": "test",
        "type": "application.stage_changed",
        "occurred_at": (T0 + timedelta(minutes=minutes)).isoformat(),
        "data": {
            "account": ACCOUNT,
            "application": {"id": app},
            "candidate": CANDIDATE,
            "job": JOB,
            "stage": stage(to, enabled),
            "previous_stage": stage(previous),
        },
    }


def schedule_created(app="a1", stage_id="s2", minutes=0):
    return {
        "id": f"scheduled-{app}-{stage_id}-{minutes}",
        "source": "docket",
        "type": "schedule.created",
        "occurred_at": (T0 + timedelta(minutes=minutes)).isoformat(),
        "data": {
            "account": ACCOUNT,
            "schedule": {"id": "sch1"},
            "application": {"id": app},
            "candidate": CANDIDATE,
            "job": JOB,
            "stage": stage(stage_id),
            "actor": {"email": "pat@acme.test"},
            "changes": {},
        },
    }


def application_closed(app="a1", minutes=0):
    return {
        "id": f"closed-{app}-{minutes}",
        "source": "test",
        "type": "application.closed",
        "occurred_at": (T0 + timedelta(minutes=minutes)).isoformat(),
        "data": {"account": ACCOUNT, "application": {"id": app}, "candidate": CANDIDATE, "job": JOB},
    }


def open_keys(store):
    return {(task.rule_id, tuple(sorted(task.key.items()))) for task in store.open_tasks()}


# -- matchers ---------------------------------------------------------------------

CONTEXT = {"stage": {"scheduling_enabled": False, "id": "42"}, "attendee": {"kind": "room"}}


def test_equality_matcher_says_what_it_wanted():
    matcher = Matcher("stage.scheduling_enabled", Equals(True))
    assert matcher.failure(CONTEXT) == "stage.scheduling_enabled is false, rule wants true"
    assert Matcher("stage.scheduling_enabled", Equals(False)).failure(CONTEXT) is None


def test_equality_treats_numbers_and_strings_as_the_same_id_but_not_booleans_as_numbers():
    assert Matcher("stage.id", Equals(42)).failure(CONTEXT) is None
    assert Matcher("stage.scheduling_enabled", Equals(0)).failure(CONTEXT) is not None


def test_any_of_matcher():
    assert Matcher("attendee.kind", AnyOf(("room", "candidate"))).failure(CONTEXT) is None
    assert Matcher("attendee.kind", AnyOf(("interviewer", "candidate"))).failure(CONTEXT) == (
        "attendee.kind is 'room', rule wants one of 'interviewer', 'candidate'"
    )


def test_not_matcher():
    assert Matcher("attendee.kind", Not(Equals("interviewer"))).failure(CONTEXT) is None
    assert Matcher("attendee.kind", Not(AnyOf(("room",)))).failure(CONTEXT) == (
        "attendee.kind is 'room', rule wants not one of 'room'"
    )


def test_exists_matcher_counts_null_as_missing():
    assert Matcher("stage.id", Exists(True)).failure(CONTEXT) is None
    assert Matcher("stage.url", Exists(True)).failure(CONTEXT) == ("stage.url is missing, rule wants it to exist")
    assert Matcher("stage.url", Exists(False)).failure({"stage": {"url": None}}) is None
    assert lookup({"a": {"b": None}}, "a.b") is lookup({}, "a.b")


# -- evaluate and explain ------------------------------------------------------------


def test_evaluate_gives_triggers_with_rendered_text_and_assignee():
    evaluation = evaluate(RULEBOOK, stage_changed())
    [trigger] = evaluation.triggers
    assert trigger.rule.id == "ready_to_schedule"
    assert trigger.key == {"application.id": "a1", "stage.id": "s2"}
    assert trigger.title == "Ada — Stage s2"
    assert trigger.assignee == {"email": "pat@acme.test", "name": "Pat"}
    assert trigger.category == "Ready to Schedule"
    partial_keys = {(r.rule.id, tuple(r.partial_key.items())) for r in evaluation.resolutions}
    assert ("ready_to_schedule", (("application.id", "a1"), ("stage.id", "s1"))) in partial_keys


def test_occurred_at_is_normalised_to_aware_utc():
    event = normalise_event({**stage_changed(), "occurred_at": "2026-11-28T11:00:00+01:00"})
    assert event.occurred_at == T0
    assert normalise_event({**stage_changed(), "occurred_at": "2026-11-28T10:00:00"}).occurred_at == T0


def test_explain_says_why_each_rule_did_or_did_not_fire():
    reasons = {e.rule_id: e for e in explain(RULEBOOK, stage_changed(enabled=False))}
    assert not reasons["ready_to_schedule"].triggered
    assert reasons["ready_to_schedule"].resolves  # it still completes the previous stage's task
    assert reasons["new_job"].reason == ("event type is application.stage_changed, rule wants job.created")
    assert reasons["ready_to_schedule"].reason == (
        "completes open tasks with application.id=a1, stage.id=s1 (Ada moved on to Stage s2)"
    )


def test_explain_names_the_failing_matcher_when_nothing_happens():
    event = stage_changed(enabled=False)
    del event["data"]["previous_stage"]
    [explanation] = [e for e in explain(RULEBOOK, event) if e.rule_id == "ready_to_schedule"]
    assert (explanation.triggered, explanation.resolves) == (False, False)
    assert explanation.reason == "stage.scheduling_enabled is false, rule wants true"


def test_explain_reports_a_missing_key_path():
    event = stage_changed()
    del event["data"]["application"]
    [explanation] = [e for e in explain(RULEBOOK, event) if e.rule_id == "ready_to_schedule"]
    assert explanation.reason == "key path application.id is missing from the event"


# -- apply_event: task semantics --------------------------------------------------------


def test_a_repeated_trigger_while_open_adds_history_instead_of_a_new_task():
    store = MemoryStore()
    apply_event(RULEBOOK, stage_changed(minutes=0), store)
    outcome = apply_event(RULEBOOK, stage_changed(minutes=5), store)
    assert len(outcome.retriggered) == 1 and not outcome.opened
    [task] = store.open_tasks()
    assert [kind for _, kind, _ in task.history] == ["opened", "triggered again"]
    assert task.last_triggered_at == T0 + timedelta(minutes=5)


def test_a_trigger_after_completion_opens_a_new_task():
    store = MemoryStore()
    apply_event(RULEBOOK, stage_changed(minutes=0), store)
    apply_event(RULEBOOK, schedule_created(minutes=10), store)
    outcome = apply_event(RULEBOOK, stage_changed(minutes=20), store)
    assert len(outcome.opened) == 1
    assert len(store.completed_tasks()) == 1 and len(store.open_tasks()) == 1


def test_one_event_resolves_before_it_opens():
    store = MemoryStore()
    apply_event(RULEBOOK, stage_changed(to="s1", previous="s0", minutes=0), store)
    outcome = apply_event(RULEBOOK, stage_changed(to="s2", previous="s1", minutes=10), store)
    assert [task.key["stage.id"] for task, _ in outcome.completed] == ["s1"]
    assert [task.key["stage.id"] for task, _ in outcome.opened] == ["s2"]


def test_moving_into_the_same_stage_again_keeps_a_task_open():
    """The event resolves (a1, s2) as the previous stage and triggers it again: resolve first."""
    store = MemoryStore()
    apply_event(RULEBOOK, stage_changed(to="s2", previous="s1", minutes=0), store)
    apply_event(RULEBOOK, stage_changed(to="s2", previous="s2", minutes=10), store)
    assert open_keys(store) == {("ready_to_schedule", (("application.id", "a1"), ("stage.id", "s2")))}


def test_a_stale_trigger_is_reported_as_superseded():
    store = MemoryStore()
    apply_event(RULEBOOK, schedule_created(minutes=10), store)
    outcome = apply_event(RULEBOOK, stage_changed(minutes=0), store)
    assert [trigger.rule.id for trigger in outcome.superseded] == ["ready_to_schedule"]
    assert store.open_tasks() == []


def test_a_malformed_event_is_rejected():
    from webapp.rules.engine import EventError

    with pytest.raises(EventError):
        apply_event(RULEBOOK, {**stage_changed(), "occurred_at": "yesterday"}, MemoryStore())


# -- order-free: any arrival order ends where time order ends ----------------------------

APPS, STAGES = ["a1", "a2"], ["s1", "s2"]

event_specs = st.one_of(
    st.tuples(st.just("moved"), st.sampled_from(APPS), st.sampled_from(STAGES), st.sampled_from(STAGES)),
    st.tuples(st.just("scheduled"), st.sampled_from(APPS), st.sampled_from(STAGES), st.none()),
    st.tuples(st.just("closed"), st.sampled_from(APPS), st.none(), st.none()),
)


def build(spec, minutes):
    kind, app, stage_id, previous = spec
    if kind == "moved":
        return stage_changed(app=app, to=stage_id, previous=previous, minutes=minutes)
    if kind == "scheduled":
        return schedule_created(app=app, stage_id=stage_id, minutes=minutes)
    return application_closed(app=app, minutes=minutes)


def final_open(events):
    store = MemoryStore()
    for event in events:
        apply_event(RULEBOOK, event, store)
    return open_keys(store)


@settings(max_examples=150, deadline=None)
@given(specs=st.lists(event_specs, min_size=1, max_size=7), data=st.data())
def test_any_arrival_order_gives_the_same_open_tasks_as_time_order(specs, data):
    # Distinct occurred_at times: event i happened at minute i.
    events = [build(spec, minutes) for minutes, spec in enumerate(specs)]
    arrival = data.draw(st.permutations(events))
    assert final_open(arrival) == final_open(events)


def test_every_arrival_order_of_a_small_timeline_agrees():
    events = [
        stage_changed(to="s1", previous="s0", minutes=0),
        stage_changed(to="s2", previous="s1", minutes=10),
        schedule_created(stage_id="s2", minutes=20),
        stage_changed(to="s2", previous="s1", minutes=30),
    ]
    expected = final_open(events)
    assert expected == {("ready_to_schedule", (("application.id", "a1"), ("stage.id", "s2")))}
    for order in itertools.permutations(events):
        assert final_open(order) == expected


def test_missing_data_renders_a_placeholder_instead_of_failing_the_event():
    from webapp.rules.templates import MISSING, compile_template

    template = compile_template("Schedule {{ candidate.name }} for {{ stage.name }}")
    assert template.render({"candidate": {"id": "c1"}, "stage": {"name": "Onsite"}}) == f"Schedule {MISSING} for Onsite"


def test_contains_matcher_finds_an_item_of_a_list_whatever_its_case():
    context = {"changes": {"removed_attendees": ["Dana.Wu@acme.test"], "moved": True}}
    assert Matcher("changes.removed_attendees", Contains("dana.wu@acme.test")).failure(context) is None
    assert Matcher("changes.removed_attendees", Contains("sam@acme.test")).failure(context) == (
        "changes.removed_attendees is ['Dana.Wu@acme.test'], rule wants a list containing 'sam@acme.test'"
    )
    assert Matcher("changes.moved", Contains(True)).failure(context) is not None  # not a list


def _declined(email, minutes=0):
    return {
        "id": f"d-{email}",
        "type": "attendee.responded",
        "occurred_at": T0 + timedelta(minutes=minutes),
        "data": {
            "account": ACCOUNT,
            "schedule": {"id": "sch1"},
            "application": {"id": "a1"},
            "candidate": CANDIDATE,
            "job": JOB,
            "stage": {"id": "s2", "name": "Onsite"},
            "attendee": {"email": email, "kind": "interviewer"},
            "response": "declined",
        },
    }


def _edited(minutes, **changes):
    return {
        "id": f"e-{minutes}",
        "type": "schedule.updated",
        "occurred_at": T0 + timedelta(minutes=minutes),
        "data": {
            "account": ACCOUNT,
            "schedule": {"id": "sch1"},
            "application": {"id": "a1"},
            "changes": {"summary": "edited", "removed_attendees": [], "rescheduled_attendees": [], **changes},
        },
    }


def test_an_edit_completes_the_declines_of_exactly_the_attendees_it_removed():
    store = MemoryStore()
    for email in ("dana@acme.test", "sam@acme.test", "lee@acme.test"):
        apply_event(RULEBOOK, _declined(email), store)
    outcome = apply_event(RULEBOOK, _edited(10, removed_attendees=["dana@acme.test", "lee@acme.test"]), store)
    assert sorted(task.key["attendee.email"] for task, _ in outcome.completed) == ["dana@acme.test", "lee@acme.test"]
    assert [task.key["attendee.email"] for task in store.tasks if task.status == "open"] == ["sam@acme.test"]


def test_a_rule_whose_resolvers_find_no_one_gives_the_task_to_the_default_and_says_so():
    from webapp.rules import load_rulebook

    rulebook = load_rulebook(
        """\
version: 1
defaults: {assignee: [account.creator]}
rules:
  - id: new_job
    category: New Job
    event: job.created
    key: [job.id]
    assignee: [job.coordinator]
    title: "New job: {{ job.name }}"
    action: "Set up {{ job.name }}"
    resolve_on: [{event: job.closed, same: [job.id]}]
"""
    )
    event = {"id": "j", "type": "job.created", "occurred_at": T0, "data": {"account": ACCOUNT, "job": {"id": "j9"}}}
    outcome = apply_event(rulebook, event, MemoryStore())
    [(task, trigger)] = outcome.opened
    assert trigger.assignee == ACCOUNT["creator"]
    assert [str(p) for p in outcome.problems] == [
        "new_job: none of job.coordinator names a person; the task went to the rulebook's default, account.creator"
    ]
    with_coordinator = dict(event, id="j2", data={"account": ACCOUNT, "job": JOB})
    assert apply_event(rulebook, with_coordinator, MemoryStore()).problems == []


def test_a_template_renders_once_per_distinct_values_and_each_text_matches_its_own_values(monkeypatch):
    from webapp.rules import templates

    monkeypatch.setattr(templates, "_rendered", {})
    title = templates.compile_template("{{ candidate.name }} — {{ stage.name | upper }}{% if late %} (late){% endif %}")
    assert title.names == ("candidate", "late", "stage")
    jinja_renders = []
    real = templates.Template._render
    monkeypatch.setattr(templates.Template, "_render", lambda self, *a: jinja_renders.append(1) or real(self, *a))

    def render(name, stage, **more):
        return title.render({"candidate": {"name": name, "id": 1}, "stage": {"name": stage}, **more})

    assert render("Ada", "Onsite") == "Ada — ONSITE"
    assert render("Ada", "Onsite") == "Ada — ONSITE"
    assert len(jinja_renders) == 1  # the same values: the text rendered before
    assert render("Ada", "Screen") == "Ada — SCREEN"
    assert render("Ada", "Onsite", late=True) == "Ada — ONSITE (late)"
    assert render("Grace", "Onsite") == "Grace — ONSITE"
    assert len(jinja_renders) == 4
    # A value that is not plain data is rendered every time, never mistaken for its text.
    assert title.render({"candidate": {"name": datetime(2026, 1, 2, tzinfo=UTC)}, "stage": {"name": "x"}}) == (
        "2026-01-02 00:00:00+00:00 — X"
    )
    assert title.render({"candidate": {"name": "2026-01-02 00:00:00+00:00"}, "stage": {"name": "x"}}) == (
        "2026-01-02 00:00:00+00:00 — X"
    )
    assert len(jinja_renders) == 6


def declined(starts_at="2026-11-30T15:00:00Z", minutes=0):
    schedule = {"id": "sch1", **({"starts_at": starts_at} if starts_at else {})}
    return {
        "id": f"declined-{minutes}",
        "source": "test",
        "type": "attendee.responded",
        "occurred_at": (T0 + timedelta(minutes=minutes)).isoformat(),
        "data": {
            "schedule": schedule,
            "application": {"id": "a1"},
            "candidate": CANDIDATE,
            "job": JOB,
            "stage": stage("s2"),
            "attendee": {"email": "lee@acme.test", "kind": "interviewer"},
            "response": "declined",
            "account": ACCOUNT,
        },
    }


def test_a_task_is_due_when_its_rule_says():
    store = MemoryStore()
    apply_event(RULEBOOK, stage_changed(minutes=30), store)
    apply_event(RULEBOOK, declined(), store)
    due = {task.rule_id: task.due_at for task in store.open_tasks()}
    # A day after the candidate moved; an hour before the interview the interviewer declined.
    assert due == {
        "ready_to_schedule": T0 + timedelta(minutes=30, days=1),
        "interviewer_declined": datetime(2026, 11, 30, 14, 0, tzinfo=UTC),
    }


def test_a_decline_of_an_interview_whose_time_is_unknown_has_no_due_time():
    store = MemoryStore()
    apply_event(RULEBOOK, declined(starts_at=None), store)
    assert [task.due_at for task in store.open_tasks()] == [None]
