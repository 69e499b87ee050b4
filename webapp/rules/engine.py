"""Evaluate events against a rulebook and apply the outcome to a task store: resolve, then open or dedupe."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from . import vocabulary as vocab
from .cover import Absences
from .matchers import MISSING, first_failure, lookup
from .model import Due, ResolveOn, Rule, Rulebook, Urgent
from .templates import TemplateRenderError


class EventError(ValueError):
    """An event envelope is malformed (no type, an unreadable occurred_at, data not a mapping)."""


@dataclass(frozen=True)
class Event:
    """A normalised event envelope: occurred_at is an aware UTC datetime, data the records."""

    id: str
    source: str
    type: str
    occurred_at: datetime
    data: Mapping[str, Any]


def parse_time(value: Any) -> datetime:
    """An ISO-8601 string or a datetime as an aware UTC datetime; naive times are taken as UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise EventError(f"occurred_at {value!r} is not an ISO-8601 time") from exc
    else:
        raise EventError(f"occurred_at must be an ISO-8601 time, got {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def normalise_event(event: Mapping[str, Any] | Event) -> Event:
    """Check an envelope and normalise its time; raises EventError when it cannot be used."""
    if isinstance(event, Event):
        return event
    if not isinstance(event, Mapping):
        raise EventError(f"an event must be a mapping, got {type(event).__name__}")
    if not isinstance(event.get("type"), str):
        raise EventError("an event needs a type")
    if "occurred_at" not in event:
        raise EventError("an event needs occurred_at")
    data = event.get("data") or {}
    if not isinstance(data, Mapping):
        raise EventError("an event's data must be a mapping of records")
    return Event(
        id=str(event.get("id", "")),
        source=str(event.get("source", "")),
        type=event["type"],
        occurred_at=parse_time(event["occurred_at"]),
        data=data,
    )


# -- evaluation: what an event means, without any store ---------------------------


@dataclass(frozen=True)
class Trigger:
    """A rule asks for an open task with this key."""

    rule: Rule
    key: dict[str, str]
    title: str
    action: str
    priority: str
    assignee: dict[str, str] | None
    category: str
    # Set when the rule's own resolvers found no one: who got the task instead, or that no one did.
    assignee_note: str | None = None
    # When the task is due (the rule's `due:`), or None.
    due_at: datetime | None = None
    # Set when the person the resolvers found is away: whom the assignee covers for, and why.
    covering_for: dict[str, str] | None = None
    cover_note: str | None = None
    # Whether a task it opens is urgent (the rule's `urgent:`): e-mailed at once to whoever asked.
    urgent: bool = False


@dataclass(frozen=True)
class Resolution:
    """A rule's open tasks whose key contains `partial_key` are done, for `reason`."""

    rule: Rule
    partial_key: dict[str, str]
    reason: str
    entry: ResolveOn | None = None  # the resolve_on entry that matched


@dataclass(frozen=True)
class Problem:
    """A rule the event is for (its type and `match` fit) that could not do all it should: no key
    to open a task by, or no assignee of its own (see Outcome.problems). The inbox row shows it."""

    rule_id: str
    reason: str

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.reason}"


@dataclass
class Evaluation:
    """Everything one event resolves and triggers, in rule order, and what rules could not do."""

    event: Event
    resolutions: list[Resolution] = field(default_factory=list)
    triggers: list[Trigger] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # The rule's snoozed tasks whose key contains a wake's partial_key wake up (its `wake_on`).
    wakes: list[Resolution] = field(default_factory=list)


def _type_or_match_failure(wanting: str, events, match, event: Event) -> str | None:
    """Why the event is not of the wanted types or fails the match, or None."""
    if event.type not in events:
        return f"event type is {event.type}, {wanting} wants {' or '.join(events)}"
    return first_failure(match, event.data)


def trigger_failure(rule: Rule, event: Event) -> str | None:
    """The first reason this event does not open a task of `rule`, or None when it does."""
    return _type_or_match_failure("rule", rule.events, rule.match, event) or key_failure(rule, event)


def key_failure(rule: Rule, event: Event) -> str | None:
    """Why the rule cannot name the task this event is about (a key path missing), or None."""
    missing = [path for path in rule.key if lookup(event.data, path) is MISSING]
    if missing:
        return f"key path {missing[0]} is missing from the event"
    return None


def resolution_failure(entry: ResolveOn, event: Event) -> str | None:
    """The first reason this event does not resolve by `entry`, or None when it does."""
    failure = _type_or_match_failure("resolve_on", entry.events, entry.match, event)
    if failure:
        return failure
    for same in entry.same:
        value = lookup(event.data, same.event_path)
        if value is MISSING:
            return f"{same.event_path} is missing from the event"
        if same.member and not isinstance(value, list | tuple):
            return f"{same.event_path} is not a list"
        if same.member and not value:
            return f"{same.event_path} is empty"
    return None


def make_trigger(
    rule: Rule, event: Event, problems: list[Problem] | None = None, absences: Absences | None = None
) -> Trigger:
    """The trigger of a rule the event matches (check trigger_failure first); a person `absences`
    says is away when the event happened is covered for (see assign).

    A title or action that fails to render (the rulebook in force predates a check, or the data
    is stranger than the examples) gives the task a plain text instead, and a problem in `problems`:
    the task is still opened and the event never fails for it.
    """
    context = event.data
    assignment = assign(rule, context, absences, event.occurred_at)
    key = {path: str(lookup(context, path)) for path in rule.key}
    plain_title = f"{rule.category}: " + ", ".join(key.values()) if key else rule.category
    return Trigger(
        rule=rule,
        key=key,
        title=_render_or(rule.title, context, f"{rule.id}.title", plain_title, rule.id, problems),
        action=_render_or(rule.action, context, f"{rule.id}.action", "", rule.id, problems),
        priority=rule.priority,
        assignee=assignment.person,
        category=rule.category,
        assignee_note=assignment.note,
        due_at=due_at(rule.due, event),
        covering_for=assignment.covering_for,
        cover_note=assignment.cover_note,
        urgent=is_urgent(rule.urgent, event),
    )


def is_urgent(urgent: Urgent | None, event: Event) -> bool:
    """Whether the rule's `urgent:` holds for the event: always, or when the event happened at most
    `within` before the time at `path` (or after it); never when the event lacks that time."""
    if urgent is None:
        return False
    if urgent.path is None:
        return True
    value = lookup(event.data, urgent.path)
    if value in (MISSING, None, ""):
        return False
    try:
        return parse_time(value) - event.occurred_at <= urgent.within
    except EventError:
        return False


def due_at(due: Due | None, event: Event) -> datetime | None:
    """When a task the event opens is due: `due.offset` after the event happened or after the time
    at `due.path`; None without a `due:`, or when the event lacks that time (a schedule Docket does not know)."""
    if due is None:
        return None
    if due.path is None:
        return event.occurred_at + due.offset
    value = lookup(event.data, due.path)
    if value in (MISSING, None, ""):
        return None
    try:
        return parse_time(value) + due.offset
    except EventError:
        return None


def _render_or(template, context, what, plain, rule_id, problems):
    """The rendered template, or `plain` with the failure noted in `problems`."""
    try:
        return template.render(context, what)
    except TemplateRenderError as exc:
        if problems is not None:
            problems.append(Problem(rule_id, f"{exc}; the task got a plain text instead"))
        return plain


def make_resolutions(
    rule: Rule, entry: ResolveOn, event: Event, problems: list[Problem] | None = None, section: str = "resolve_on"
) -> list[Resolution]:
    """The resolutions an entry (of resolve_on, or wake_on) makes for an event it matches (check
    resolution_failure first): one, or one per item of each list an `in` names."""
    reason = vocab.EVENT_TYPES[event.type].reason
    if entry.reason is not None:
        reason = _render_or(entry.reason, event.data, f"{rule.id}.{section}.reason", reason, rule.id, problems)
    keys: list[dict[str, str]] = [{}]
    for same in entry.same:
        value = lookup(event.data, same.event_path)
        values = list(dict.fromkeys(str(item) for item in value)) if same.member else [str(value)]
        keys = [{**key, same.task_path: item} for key in keys for item in values]
    return [Resolution(rule, key, reason, entry) for key in keys]


def _person_at(context: Mapping[str, Any], resolver: str) -> dict[str, str] | None:
    person = lookup(context, resolver)
    if isinstance(person, Mapping) and isinstance(person.get("email"), str) and person["email"]:
        return {"email": person["email"], "name": person.get("name") or ""}
    return None


def resolve_assignee(rule: Rule, context: Mapping[str, Any]) -> dict[str, str] | None:
    """The first person the rule's resolvers (then the rulebook's default ones) find, as {email, name}."""
    return assign(rule, context).person


@dataclass(frozen=True)
class Assignment:
    """Who gets a rule's task: `note` when the rule's own resolvers named no one; `covering_for`
    when the person they found is away, and `cover_note` saying who was passed over and why."""

    person: dict[str, str] | None
    note: str | None = None
    covering_for: dict[str, str] | None = None
    cover_note: str | None = None


def assign(
    rule: Rule, context: Mapping[str, Any], absences: Absences | None = None, at: datetime | None = None
) -> Assignment:
    """Who gets the rule's task: the first person its resolvers (then the rulebook's default ones)
    find. One away at `at` is covered by their backup chain (Absences.cover); a chain that ends
    with nobody passes on to the next resolver, and when everyone found is away and uncovered,
    the task waits for the first of them."""
    tried = ", ".join(rule.assignee)
    passed = []  # the Covers of people found away whom nobody covers
    for resolver in (*rule.assignee, *rule.fallback):
        person = _person_at(context, resolver)
        if person is None or any(c.away["email"] == person["email"] for c in passed):
            continue
        note = None
        if resolver not in rule.assignee and not passed:
            note = f"none of {tried} names a person; the task went to the rulebook's default, {resolver}"
        cover = absences.cover(person, at) if absences and at is not None else None
        if cover is not None and cover.person is None:
            passed.append(cover)
            continue
        whys = [c.why for c in passed]
        if cover is not None:
            whys.append(cover.why)
            person = {"email": cover.person["email"], "name": cover.person.get("name") or ""}
        elif passed:
            whys.append(f"{resolver} names {person['email']}")
        if not whys:
            return Assignment(person, note)
        covering = (passed[0] if passed else cover).away
        return Assignment(person, note, dict(covering), "; ".join(whys))
    if passed:
        whys = "; ".join(c.why for c in passed)
        return Assignment(dict(passed[0].away), None, None, f"{whys}; the task waits for {passed[0].away['email']}")
    everyone = ", ".join((*rule.assignee, *rule.fallback))
    return Assignment(None, f"none of {everyone} names a person; the task waits unassigned")


def evaluate(rulebook: Rulebook, event: Mapping[str, Any] | Event, absences: Absences | None = None) -> Evaluation:
    """What the event resolves and triggers under every rule of the rulebook (covering for the
    people `absences` says are away)."""
    event = normalise_event(event)
    evaluation = Evaluation(event)
    for rule in rulebook.rules:
        # The type first: most rules are not for most events, and a failure's text costs more to write.
        for entry in rule.resolve_on:
            if event.type in entry.events and resolution_failure(entry, event) is None:
                evaluation.resolutions.extend(make_resolutions(rule, entry, event, evaluation.problems))
        for entry in rule.wake_on:
            if event.type in entry.events and resolution_failure(entry, event) is None:
                evaluation.wakes.extend(make_resolutions(rule, entry, event, evaluation.problems, "wake_on"))
        if event.type not in rule.events:
            continue
        failure = trigger_failure(rule, event)
        if failure is None:
            evaluation.triggers.append(make_trigger(rule, event, evaluation.problems, absences))
        elif first_failure(rule.match, event.data) is None:
            # The event is one the rule is for, but names too little to say which task: said, not dropped.
            evaluation.problems.append(Problem(rule.id, f"no task opened: {failure}"))
    return evaluation


# -- explain: the same checks, reported per rule -----------------------------------


@dataclass(frozen=True)
class Explanation:
    """Whether one rule opens and/or resolves tasks for an event, and why (not)."""

    rule_id: str
    triggered: bool
    resolves: bool
    reason: str
    trigger: Trigger | None = None
    resolutions: tuple[Resolution, ...] = ()


def explain(
    rulebook: Rulebook, event: Mapping[str, Any] | Event, absences: Absences | None = None
) -> list[Explanation]:
    """For every rule, in order: would this event open a task, resolve tasks, and if not why
    (and who covers for a person `absences` says is away)."""
    event = normalise_event(event)
    return [explain_rule(rule, event, absences) for rule in rulebook.rules]


def explain_rule(rule: Rule, event: Event, absences: Absences | None = None) -> Explanation:
    """One rule's explanation; the reason is the first failure when nothing happens."""
    resolutions, resolve_failures, problems = [], [], []
    for index, entry in enumerate(rule.resolve_on):
        failure = resolution_failure(entry, event)
        if failure is None:
            resolutions.extend(make_resolutions(rule, entry, event, problems))
        elif event.type in entry.events:
            resolve_failures.append(f"resolve_on[{index}]: {failure}")
    failure = trigger_failure(rule, event)
    trigger = make_trigger(rule, event, problems, absences) if failure is None else None

    parts = []
    if trigger:
        key = format_key(trigger.key)
        opens = f"opens a task (key {key}) for {_person(trigger.assignee)}"
        notes = [note for note in (trigger.assignee_note, trigger.cover_note) if note]
        parts.append(f"{opens} ({'; '.join(notes)})" if notes else opens)
    for resolution in resolutions:
        key = format_key(resolution.partial_key)
        parts.append(f"completes open tasks with {key} ({resolution.reason})")
    parts.extend(problem.reason for problem in problems)
    if parts:
        reason = "; ".join(parts)
    elif event.type in rule.events or not resolve_failures:
        reason = failure
    else:
        reason = resolve_failures[0]
    return Explanation(
        rule.id,
        trigger is not None,
        bool(resolutions),
        reason,
        trigger,
        tuple(resolutions),
    )


def format_key(key: Mapping[str, str]) -> str:
    """`application.id=a1, stage.id=s2`."""
    return ", ".join(f"{path}={value}" for path, value in key.items())


def _person(person: Mapping[str, str] | None) -> str:
    return person["email"] if person else "nobody (no resolver found a person)"


# -- applying an event to tasks ------------------------------------------------------


class Task(Protocol):
    """What the engine needs of a stored task."""

    last_triggered_at: datetime


class TaskStore(Protocol):
    """Where tasks and recorded resolutions live: in memory for tests, the database for the worker."""

    def find_open(self, rule_id: str, partial_key: Mapping[str, str]) -> list[Task]:
        """Open tasks of the rule whose key contains every item of `partial_key`."""

    def latest_resolution(self, rule_id: str, key: Mapping[str, str]) -> datetime | None:
        """The newest occurred_at of recorded resolutions of the rule whose partial key is contained in `key`."""

    def record_resolution(
        self,
        rule_id: str,
        partial_key: Mapping[str, str],
        occurred_at: datetime,
        event: Event,
    ) -> None:
        """Remember that tasks of the rule matching `partial_key` were resolved as of `occurred_at`."""

    def complete(self, task: Any, event: Event, reason: str) -> None:
        """Complete an open task automatically because of `event`."""

    def retrigger(self, task: Any, event: Event, trigger: Trigger) -> None:
        """Add a repeated trigger to an open task's history; last_triggered_at becomes the later time."""

    def open(self, trigger: Trigger, event: Event) -> Task:
        """Open a new task for the trigger; its last_triggered_at is the event's occurred_at."""

    def find_snoozed(self, rule_id: str, partial_key: Mapping[str, str]) -> list[Task]:
        """Tasks of the rule snoozed until an event whose key contains every item of `partial_key`."""

    def wake(self, task: Any, event: Event, reason: str) -> None:
        """End a task's snooze because of `event`: it is open again."""


@dataclass
class Outcome:
    """What applying one event did to the store."""

    event: Event
    evaluation: Evaluation
    opened: list[tuple[Any, Trigger]] = field(default_factory=list)
    retriggered: list[tuple[Any, Trigger]] = field(default_factory=list)
    completed: list[tuple[Any, Resolution]] = field(default_factory=list)
    woken: list[tuple[Any, Resolution]] = field(default_factory=list)
    # Triggers older than a recorded resolution of their key: the work is already done.
    superseded: list[Trigger] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        """What rules could not do: no key to open a task by, or a task opened without an assignee of the rule's own."""
        unassigned = [Problem(t.rule.id, t.assignee_note) for _, t in self.opened if t.assignee_note]
        return [*self.evaluation.problems, *unassigned]


def apply_event(
    rulebook: Rulebook,
    event: Mapping[str, Any] | Event,
    store: TaskStore,
    resolve_only: bool = False,
    absences: Absences | None = None,
) -> Outcome:
    """Resolve, then open or dedupe, the tasks one event affects; the only place task semantics live.

    resolve_only: apply only what the event resolves, for events the worker infers
    (a candidate left a stage) rather than ones a source sent.
    absences: who is away when, so that a task goes to whoever covers (see assign).
    """
    event = normalise_event(event)
    evaluation = evaluate(rulebook, event, absences)
    outcome = Outcome(event, evaluation)
    # Resolve before open, so an event that both moves a candidate out of one stage
    # and into another completes the old task before it opens the new one.
    for resolution in evaluation.resolutions:
        apply_resolution(resolution, event, store, outcome)
    # Then wake: a task the event completed stays completed.
    for wake in evaluation.wakes:
        for task in store.find_snoozed(wake.rule.id, wake.partial_key):
            store.wake(task, event, wake.reason)
            outcome.woken.append((task, wake))
    if not resolve_only:
        for trigger in evaluation.triggers:
            apply_trigger(trigger, event, store, outcome)
    return outcome


def apply_resolution(resolution: Resolution, event: Event, store: TaskStore, outcome: Outcome) -> None:
    """Record the resolution, then complete open tasks not triggered after it happened."""
    rule_id = resolution.rule.id
    # Recorded even when nothing is open: a trigger that happened earlier may still arrive.
    store.record_resolution(rule_id, resolution.partial_key, event.occurred_at, event)
    for task in store.find_open(rule_id, resolution.partial_key):
        # A task re-triggered after this event happened is still wanted.
        if task.last_triggered_at <= event.occurred_at:
            store.complete(task, event, resolution.reason)
            outcome.completed.append((task, resolution))


def apply_trigger(trigger: Trigger, event: Event, store: TaskStore, outcome: Outcome) -> None:
    """Dedupe into the open task, drop a trigger a later resolution made stale, or open a task."""
    rule_id = trigger.rule.id
    open_tasks = store.find_open(rule_id, trigger.key)
    if open_tasks:
        store.retrigger(open_tasks[0], event, trigger)
        outcome.retriggered.append((open_tasks[0], trigger))
        return
    resolved_at = store.latest_resolution(rule_id, trigger.key)
    if resolved_at is not None and resolved_at > event.occurred_at:
        outcome.superseded.append(trigger)
        return
    outcome.opened.append((store.open(trigger, event), trigger))
