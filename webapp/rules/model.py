"""The rulebook as immutable typed rules, the shape the loader builds and the engine evaluates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .matchers import Matcher
from .templates import Template


@dataclass(frozen=True)
class SamePath:
    """One part of a task's key and where the resolving event has it: `same: [application.id]` is
    SamePath("application.id", "application.id"); `attendee.email: {in: changes.removed_attendees}`
    has `member`: the task's value is any item of the event's list."""

    task_path: str
    event_path: str
    member: bool = False


@dataclass(frozen=True)
class ResolveOn:
    """An event that completes a rule's open tasks: its types, matchers, and how its key lines up."""

    events: tuple[str, ...]
    match: tuple[Matcher, ...]
    same: tuple[SamePath, ...]
    # None: the event type's default reason from the vocabulary.
    reason: Template | None


@dataclass(frozen=True)
class Due:
    """When a rule's task is due: `offset` after the event happened (`due: 1d`), or, with `path`, at
    the time the event has there (`due: schedule.starts_at`), `offset` earlier with `{before: path, by: 1h}`."""

    offset: timedelta
    path: str | None = None


@dataclass(frozen=True)
class Urgent:
    """When a rule's new task is urgent (e-mailed at once to those who asked for it): always
    (`urgent: true`), or, with `path`, when the event happened at most `within` before the time the
    event has there, or after it (`urgent: {before: schedule.starts_at, within: 24h}`)."""

    path: str | None = None
    within: timedelta | None = None


@dataclass(frozen=True)
class Rule:
    """One rule: which events open a task, for whom, saying what, and which events complete it."""

    id: str
    category: str
    description: str
    events: tuple[str, ...]
    match: tuple[Matcher, ...]
    key: tuple[str, ...]
    assignee: tuple[str, ...]
    priority: str
    title: Template
    action: Template
    resolve_on: tuple[ResolveOn, ...]
    # The rulebook's default resolvers the rule's own do not name, tried when theirs find no one.
    fallback: tuple[str, ...] = ()
    # None: the rule's tasks have no due time and list after those that have one.
    due: Due | None = None
    # None: the rule's tasks are never urgent.
    urgent: Urgent | None = None
    # Events that wake the rule's tasks snoozed "until an event", lined up with their key as
    # resolve_on's are (the reason is what the task's history says woke it).
    wake_on: tuple[ResolveOn, ...] = ()


@dataclass(frozen=True)
class Rulebook:
    """A validated rulebook: its rules in file order and the text it was loaded from."""

    version: int
    rules: tuple[Rule, ...]
    source_text: str = ""

    def rule(self, rule_id: str) -> Rule | None:
        """The rule with this id, or None."""
        return next((rule for rule in self.rules if rule.id == rule_id), None)
