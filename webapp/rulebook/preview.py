"""Preview a draft: replay an account's recent events through the rulebook in force and through
the draft, and say which tasks each would handle differently."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ..models import Event
from ..row_events import enriched_events
from ..rules import MemoryStore, apply_event
from ..rules.engine import EventError
from ..rules.templates import TemplateRenderError
from .current import _as_account, rulebook_for

DEFAULT_REPLAY_EVENTS = 500


@dataclass
class Difference:
    """One task that the draft would handle differently from the rulebook in force."""

    rule_id: str
    category: str
    title: str
    key: dict
    in_force: str
    draft: str
    change: str


@dataclass
class Replay:
    """The outcome of replaying an account's recent events through two rulebooks."""

    events: int = 0
    envelopes: int = 0
    in_force_tasks: int = 0
    draft_tasks: int = 0
    differences: list[Difference] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _identity(task):
    return task.rule_id, tuple(sorted(task.key.items()))


def _summary(tasks):
    """What happened to the tasks of one (rule, key), in words, and the fields that matter."""
    parts = []
    for task in tasks:
        who = task.assignee_email or "nobody"
        if task.status == "open":
            parts.append(f"open, {task.priority}, for {who}")
        else:
            parts.append(f"opened and completed ({task.completion_reason})")
    return "; ".join(parts) if parts else "no task"


def _change(old, new):
    if not old:
        return "would open"
    if not new:
        return "would no longer open"
    old_open = any(t.status == "open" for t in old)
    new_open = any(t.status == "open" for t in new)
    if old_open and not new_open:
        return "would complete"
    if new_open and not old_open:
        return "would stay open"
    return "would differ"


def _fingerprint(tasks):
    return [(t.status, t.priority, t.assignee_email, t.title, t.completion_reason) for t in tasks]


def replay(account, draft, limit=DEFAULT_REPLAY_EVENTS):
    """Replay the account's last `limit` events through the rulebook in force and through the draft.

    Both run on empty in-memory task stores over the stored envelopes, enriched with Docket's
    records as they are now (not as they were then), so this is a replay, not a re-run of
    history. It only reads: vendor payloads are normalised again, and nothing is written.
    """
    account = _as_account(account)
    result = Replay()
    current = rulebook_for(account)
    stores = {"in force": MemoryStore(), "draft": MemoryStore()}
    rulebooks = {"in force": current, "draft": draft}
    for row in Event.latest_of(account, limit):
        result.events += 1
        row.account = account
        try:
            events = enriched_events(row)
        except Exception as exc:  # a row the pipeline could not read either; say so and go on
            result.errors.append(f"event {row.id}: cannot be read: {exc}")
            continue
        for event in events:
            result.envelopes += 1
            for side, store in stores.items():
                try:
                    apply_event(rulebooks[side], event, store)
                except (EventError, TemplateRenderError) as exc:
                    result.errors.append(f"event {row.id} ({event.get('type')}), {side}: {exc}")
    grouped = {side: defaultdict(list) for side in stores}
    for side, store in stores.items():
        for task in store.tasks:
            grouped[side][_identity(task)].append(task)
    result.in_force_tasks = len(stores["in force"].tasks)
    result.draft_tasks = len(stores["draft"].tasks)
    for identity in sorted(set(grouped["in force"]) | set(grouped["draft"])):
        old, new = grouped["in force"].get(identity, []), grouped["draft"].get(identity, [])
        if _fingerprint(old) == _fingerprint(new):
            continue
        sample = (new or old)[0]
        result.differences.append(
            Difference(
                rule_id=identity[0],
                category=sample.category,
                title=sample.title,
                key=dict(identity[1]),
                in_force=_summary(old),
                draft=_summary(new),
                change=_change(old, new),
            )
        )
    return result
