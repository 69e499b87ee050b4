"""Every timeline in tests/rules/ passes against the rulebook it names."""

from pathlib import Path

import pytest

from webapp.rules.loader import load_rulebook_file
from webapp.rules.timeline import load_test_file, run_test_case

TIMELINES = Path(__file__).parent / "rules"


def _cases():
    for path in sorted(TIMELINES.glob("*.yaml")):
        _, cases = load_test_file(path)
        for case in cases:
            yield pytest.param(path, case, id=f"{path.stem}: {case.name}")


@pytest.mark.parametrize(("path", "case"), _cases())
def test_timeline(path, case):
    rulebook_path, _ = load_test_file(path)
    result = run_test_case(load_rulebook_file(rulebook_path), case, str(path))
    assert result.passed, "\n".join(result.failures)


def test_every_rule_and_every_resolve_path_has_a_timeline():
    """Each rule opens a task, and each resolve_on entry completes one, in some timeline."""
    rulebook = load_rulebook_file(Path(__file__).parents[1] / "rules.yaml")
    text = "\n".join(path.read_text() for path in TIMELINES.glob("*.yaml"))
    for rule in rulebook.rules:
        assert f"rule: {rule.id}" in text, f"no timeline expects a {rule.id} task"
        for entry in rule.resolve_on:
            for event_type in entry.events:
                assert f"type: {event_type}" in text, f"no timeline sends {event_type}"
