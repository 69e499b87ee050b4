"""Rule tests in the manner of promtool: events on a timeline, and the tasks expected after each step."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import safe_yaml
from .engine import EventError, apply_event
from .loader import load_rulebook_file
from .memory import MemoryStore, MemoryTask
from .model import Rulebook
from .templates import TemplateRenderError

TEST_FILE_KEYS = {
    "rulebook",
    "fixtures",
    "tests",
}  # fixtures: free-form, for YAML anchors
TEST_KEYS = {"name", "events", "expect"}
EXPECT_KEYS = {"after", "open", "completed"}
TASK_KEYS = {"rule", "key", "assignee", "title", "action", "priority", "reason"}


class TimelineError(Exception):
    """A test file is malformed, or names a rulebook that cannot be loaded."""


@dataclass
class TestResult:
    """The outcome of one test case of a test file."""

    __test__ = False  # not a pytest test class, despite its name

    file: str
    name: str
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class TestCase:
    """One named timeline: its events in arrival order and what to expect after some of them."""

    __test__ = False

    name: str
    events: list[dict[str, Any]]
    expectations: list[dict[str, Any]]


def load_test_file(path: str | Path) -> tuple[Path | None, list[TestCase]]:
    """The rulebook path a test file names (resolved against the file) and its test cases."""
    path = Path(path)
    document = read_test_document(path.read_text(encoding="utf-8"), str(path))
    rulebook_path = path.parent / document["rulebook"] if document.get("rulebook") else None
    return rulebook_path, parse_test_cases(document, str(path))


def read_test_document(text: str, where: str, allowed: set[str] = TEST_FILE_KEYS) -> Mapping[str, Any]:
    """A test document's YAML, checked to be a mapping of allowed keys; `where` names it in errors."""
    try:
        document = safe_yaml.load(text)
    except yaml.YAMLError as exc:
        raise TimelineError(f"{where}: not valid YAML: {exc}") from exc
    _check_keys(document, allowed, where)
    return document


def parse_test_cases(document: Mapping[str, Any], where: str) -> list[TestCase]:
    """The test cases of a test document read by `read_test_document`."""
    tests = document.get("tests")
    if not isinstance(tests, list) or not tests:
        raise TimelineError(f"{where}: 'tests' must be a non-empty list")
    return [_test_case(test, f"{where}: tests[{i}]") for i, test in enumerate(tests)]


def _check_keys(value: Any, allowed: set[str], where: str) -> None:
    if not isinstance(value, Mapping):
        raise TimelineError(f"{where}: expected a mapping")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise TimelineError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")


def _test_case(test: Any, where: str) -> TestCase:
    _check_keys(test, TEST_KEYS, where)
    name = test.get("name") or where
    events = test.get("events")
    if not isinstance(events, list) or not all(isinstance(e, Mapping) for e in events):
        raise TimelineError(f"{where}: 'events' must be a list of event envelopes")
    expectations = test.get("expect") or []
    for index, expectation in enumerate(expectations):
        here = f"{where}.expect[{index}]"
        _check_keys(expectation, EXPECT_KEYS, here)
        after = expectation.get("after")
        if not isinstance(after, int) or not 0 <= after <= len(events):
            raise TimelineError(f"{here}: 'after' must be a number of events, 0 to {len(events)}")
        for kind in ("open", "completed"):
            for task in expectation.get(kind) or []:
                _check_keys(task, TASK_KEYS, f"{here}.{kind}")
                if "rule" not in task or not isinstance(task.get("key", {}), Mapping):
                    raise TimelineError(f"{here}.{kind}: a task needs 'rule' and a 'key' mapping")
    return TestCase(str(name), [dict(event) for event in events], list(expectations))


def run_test_file(path: str | Path, rulebook: Rulebook | None = None) -> list[TestResult]:
    """Run every test case of a file against its own rulebook, or else the one given."""
    rulebook_path, cases = load_test_file(path)
    if rulebook_path is not None:
        rulebook = load_rulebook_file(rulebook_path)
    if rulebook is None:
        raise TimelineError(f"{path}: names no rulebook, and none was given")
    return [run_test_case(rulebook, case, str(path)) for case in cases]


def run_test_case(rulebook: Rulebook, case: TestCase, file: str = "") -> TestResult:
    """Apply the events in arrival order to an empty store, checking expectations as they fall due."""
    result = TestResult(file, case.name)
    store = MemoryStore()
    due = sorted(case.expectations, key=lambda expectation: expectation["after"])
    processed = 0
    for expectation in due:
        while processed < expectation["after"]:
            event = with_defaults(case.events[processed], processed)
            try:
                apply_event(rulebook, event, store)
            except (EventError, TemplateRenderError) as exc:
                result.failures.append(f"event {processed + 1} ({event.get('id')}): {exc}")
                return result
            processed += 1
        result.failures.extend(check_expectation(rulebook, store, expectation))
    return result


def with_defaults(event: dict[str, Any], index: int) -> dict[str, Any]:
    # Tests need not invent ids and sources; the engine only needs them for history.
    return {"id": f"e{index + 1}", "source": "test", **event}


def check_expectation(rulebook: Rulebook, store: MemoryStore, expectation: Mapping[str, Any]) -> list[str]:
    """Failure messages, empty when the store holds exactly the expected tasks."""
    when = f"after {expectation['after']} event(s)"
    failures = []
    for kind, tasks in (
        ("open", store.open_tasks()),
        ("completed", store.completed_tasks()),
    ):
        if kind not in expectation:
            continue
        expected = expectation[kind] or []
        for entry in expected:
            if rulebook.rule(entry["rule"]) is None:
                failures.append(f"{when}: no rule {entry['rule']!r} in the rulebook")
        failures.extend(_compare_sets(when, kind, expected, tasks))
        failures.extend(_compare_fields(when, kind, expected, tasks))
    return failures


def _identity(rule_id: str, key: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return rule_id, tuple(sorted((path, str(value)) for path, value in key.items()))


def _show(identity: tuple[str, tuple[tuple[str, str], ...]]) -> str:
    rule_id, key = identity
    return f"{rule_id} {{{', '.join(f'{path}: {value}' for path, value in key)}}}"


def _compare_sets(when: str, kind: str, expected: list[Mapping[str, Any]], tasks: list[MemoryTask]) -> list[str]:
    wanted = Counter(_identity(entry["rule"], entry.get("key", {})) for entry in expected)
    got = Counter(_identity(task.rule_id, task.key) for task in tasks)
    if wanted == got:
        return []
    lines = [f"{when}: {kind} tasks differ"]
    lines += [f"  missing:    {_show(identity)}" for identity in sorted((wanted - got).elements())]
    lines += [f"  unexpected: {_show(identity)}" for identity in sorted((got - wanted).elements())]
    lines.append("  got:        " + (", ".join(_show(i) for i in sorted(got.elements())) or "none"))
    return ["\n".join(lines)]


def _compare_fields(when: str, kind: str, expected: list[Mapping[str, Any]], tasks: list[MemoryTask]) -> list[str]:
    failures = []
    for entry in expected:
        identity = _identity(entry["rule"], entry.get("key", {}))
        matching = [task for task in tasks if _identity(task.rule_id, task.key) == identity]
        for task in matching[:1]:
            actual = {
                "assignee": task.assignee_email,
                "title": task.title,
                "action": task.action,
                "priority": task.priority,
                "reason": task.completion_reason,
            }
            for name, value in actual.items():
                if name in entry and entry[name] != value:
                    failures.append(f"{when}: {kind} {_show(identity)}: {name} is {value!r}, expected {entry[name]!r}")
    return failures
