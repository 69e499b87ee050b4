"""A task store kept in memory, for `rules test` and the test suite."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from .engine import Event, Trigger

OPEN = "open"
SNOOZED = "snoozed"
COMPLETED = "completed"


@dataclass
class MemoryTask:
    """A task as the database would keep it, with its history of what happened to it."""

    id: int
    rule_id: str
    key: dict[str, str]
    category: str
    title: str
    action: str
    priority: str
    assignee: dict[str, str] | None
    opened_at: datetime
    last_triggered_at: datetime
    status: str = OPEN
    completed_at: datetime | None = None
    completion_reason: str | None = None
    due_at: datetime | None = None
    history: list[tuple[datetime, str, str]] = field(default_factory=list)

    @property
    def assignee_email(self) -> str | None:
        return self.assignee["email"] if self.assignee else None


@dataclass
class RecordedResolution:
    """A resolution as of a time, kept so that a late trigger can tell it is stale."""

    rule_id: str
    partial_key: dict[str, str]
    occurred_at: datetime
    event_id: str


def _contains(key: Mapping[str, str], partial_key: Mapping[str, str]) -> bool:
    return all(key.get(path) == value for path, value in partial_key.items())


class MemoryStore:
    """The task store protocol of engine.TaskStore, in lists."""

    def __init__(self) -> None:
        self.tasks: list[MemoryTask] = []
        self.resolutions: list[RecordedResolution] = []

    def find_open(self, rule_id: str, partial_key: Mapping[str, str]) -> list[MemoryTask]:
        return [
            task
            for task in self.tasks
            if task.status in (OPEN, SNOOZED) and task.rule_id == rule_id and _contains(task.key, partial_key)
        ]

    def find_snoozed(self, rule_id: str, partial_key: Mapping[str, str]) -> list[MemoryTask]:
        return [task for task in self.find_open(rule_id, partial_key) if task.status == SNOOZED]

    def wake(self, task: MemoryTask, event: Event, reason: str) -> None:
        task.status = OPEN
        task.history.append((event.occurred_at, "woke", f"{reason} ({event.type} {event.id})"))

    def latest_resolution(self, rule_id: str, key: Mapping[str, str]) -> datetime | None:
        times = [
            resolution.occurred_at
            for resolution in self.resolutions
            if resolution.rule_id == rule_id and _contains(key, resolution.partial_key)
        ]
        return max(times, default=None)

    def record_resolution(self, rule_id, partial_key, occurred_at, event) -> None:
        self.resolutions.append(RecordedResolution(rule_id, dict(partial_key), occurred_at, event.id))

    def complete(self, task: MemoryTask, event: Event, reason: str) -> None:
        task.status = COMPLETED
        task.completed_at = event.occurred_at
        task.completion_reason = reason
        task.history.append((event.occurred_at, "completed", f"{reason} ({event.type} {event.id})"))

    def retrigger(self, task: MemoryTask, event: Event, trigger: Trigger) -> None:
        task.last_triggered_at = max(task.last_triggered_at, event.occurred_at)
        task.history.append((event.occurred_at, "triggered again", f"{event.type} {event.id}"))

    def open(self, trigger: Trigger, event: Event) -> MemoryTask:
        task = MemoryTask(
            id=len(self.tasks) + 1,
            rule_id=trigger.rule.id,
            key=dict(trigger.key),
            category=trigger.category,
            title=trigger.title,
            action=trigger.action,
            priority=trigger.priority,
            assignee=trigger.assignee,
            opened_at=event.occurred_at,
            last_triggered_at=event.occurred_at,
            due_at=trigger.due_at,
        )
        task.history.append((event.occurred_at, "opened", f"{event.type} {event.id}"))
        self.tasks.append(task)
        return task

    def open_tasks(self) -> list[MemoryTask]:
        """Every open task, oldest first."""
        return [task for task in self.tasks if task.status == OPEN]

    def completed_tasks(self) -> list[MemoryTask]:
        """Every completed task, oldest first."""
        return [task for task in self.tasks if task.status == COMPLETED]
