"""Docket's rulebook: load and validate rules.yaml, evaluate events, and apply them to tasks."""

from .engine import Evaluation, Event, Explanation, Outcome, TaskStore, apply_event
from .loader import Problem, RulebookError, load_rulebook, load_rulebook_file
from .memory import MemoryStore
from .model import Rule, Rulebook
from .vocabulary import EVENT_TYPES

__all__ = [
    "EVENT_TYPES",
    "Evaluation",
    "Event",
    "Explanation",
    "MemoryStore",
    "Outcome",
    "Problem",
    "Rule",
    "Rulebook",
    "RulebookError",
    "TaskStore",
    "apply_event",
    "load_rulebook",
    "load_rulebook_file",
]
