"""Every timeline in rules.tests/ passes, and together they exercise every rule and resolve path."""

from pathlib import Path

import pytest

from webapp.rules import MemoryStore, apply_event
from webapp.rules.loader import load_rulebook_file
from webapp.rules.timeline import load_test_file, run_test_case, with_defaults

TIMELINES = Path(__file__).parents[1] / "rules.tests"
SHIPPED_RULES = Path(__file__).parents[1] / "rules.yaml"


def _cases():
    cases = []
    for path in sorted(TIMELINES.glob("*.yaml")):
        rulebook_path, file_cases = load_test_file(path)
        for case in file_cases:
            cases.append(pytest.param(rulebook_path, case, id=f"{path.stem}: {case.name}"))
    return cases


@pytest.mark.parametrize(("rulebook_path", "case"), _cases())
def test_timeline(rulebook_path, case):
    result = run_test_case(load_rulebook_file(rulebook_path), case)
    assert result.passed, "\n".join(result.failures)


def test_timelines_open_every_rule_and_complete_by_every_resolve_path():
    rulebook = load_rulebook_file(SHIPPED_RULES)
    opened, completed_via = set(), set()
    for param in _cases():
        _, case = param.values
        store = MemoryStore()
        for index, event in enumerate(case.events):
            outcome = apply_event(rulebook, with_defaults(event, index), store)
            opened |= {trigger.rule.id for _, trigger in outcome.opened}
            completed_via |= {(res.rule.id, res.rule.resolve_on.index(res.entry)) for _, res in outcome.completed}
    for rule in rulebook.rules:
        assert rule.id in opened, f"no timeline opens a {rule.id} task"
        for index, entry in enumerate(rule.resolve_on):
            assert (rule.id, index) in completed_via, (
                f"no timeline completes a {rule.id} task by resolve_on[{index}] ({entry.events})"
            )
