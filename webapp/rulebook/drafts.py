"""Checking a draft rulebook before it may replace the one in force: is it valid, do its rule
tests pass, and which rules it removes still have open tasks.

Which rule tests a draft must pass:
- the account's own tests, kept with each version (a timeline test document, the format of
  rules.tests/*.yaml without `rulebook:`), run in full against the draft;
- the shipped timeline tests (RULE_TESTS_PATH, normally rules.tests/*.yaml, written for the
  default rulebook), restricted to the rules the draft keeps exactly as the default has them
  (same id, same definition, same defaults): an untouched rule must still behave as shipped; a
  rule the admin changed on purpose is covered by the account's own tests instead.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from ..models import Task
from ..rules import Problem, Rulebook, RulebookError, load_rulebook, safe_yaml
from ..rules.timeline import (
    TEST_FILE_KEYS,
    TimelineError,
    load_test_file,
    parse_test_cases,
    read_test_document,
    run_test_case,
)
from .current import default_text, rulebook_for


@dataclass
class Assessment:
    """What stands between a draft and the rulebook in force."""

    text: str
    tests: str
    rulebook: Rulebook | None = None
    problems: list[Problem] = field(default_factory=list)
    test_problems: list[str] = field(default_factory=list)
    test_failures: list[str] = field(default_factory=list)
    tests_run: int = 0
    # Rules in force that the draft drops while they have open tasks: {rule_id: open count}.
    removed: dict[str, int] = field(default_factory=dict)
    removed_names: dict[str, str] = field(default_factory=dict)

    @property
    def valid(self):
        return self.rulebook is not None

    @property
    def tests_pass(self):
        return self.valid and not self.test_problems and not self.test_failures

    def problems_by_line(self):
        """{line: [problem, …]} for showing each problem beside its line."""
        by_line = defaultdict(list)
        for problem in self.problems:
            by_line[problem.line].append(problem)
        return dict(by_line)


def check(text, filename="rules.yaml"):
    """The draft's rulebook and problems: (Rulebook, []) or (None, [Problem, …])."""
    try:
        return load_rulebook(text, filename), []
    except RulebookError as exc:
        return None, list(exc.problems)


def assess(account, text, tests=""):
    """Check a draft: validity, rule tests, and which removed rules still have open tasks."""
    result = Assessment(text=text, tests=tests or "")
    result.rulebook, result.problems = check(text)
    if result.rulebook is None:
        return result
    run_rule_tests(result, current_app.config["RULE_TESTS_PATH"])
    kept = {rule.id for rule in result.rulebook.rules}
    dropped = {rule.id: rule.category for rule in rulebook_for(account).rules if rule.id not in kept}
    if dropped:
        counts = Task.open_counts_by_rule(account, set(dropped))
        result.removed = {rule_id: n for rule_id, n in sorted(counts.items()) if n}
        result.removed_names = {rule_id: dropped[rule_id] for rule_id in result.removed}
    return result


def _rule_definitions(text):
    """{rule id: the rule's mapping with the defaults it inherits}, from rulebook text."""
    document = safe_yaml.load(text) or {}
    defaults = document.get("defaults") or {}
    return {rule.get("id"): {**defaults, **rule} for rule in document.get("rules") or [] if isinstance(rule, dict)}


def unchanged_rules(rulebook):
    """The draft's rules that the default rulebook has exactly alike (defaults included)."""
    default = _rule_definitions(default_text())
    draft = _rule_definitions(rulebook.source_text)
    return {rule_id for rule_id, definition in draft.items() if default.get(rule_id) == definition}


def _restricted(case, rule_ids):
    """A test case whose expectations only name the given rules (the rest are not the test's concern)."""
    expectations = []
    for expectation in case.expectations:
        kept = dict(expectation)
        for kind in ("open", "completed"):
            if kind in kept:
                kept[kind] = [task for task in kept[kind] or [] if task["rule"] in rule_ids]
        expectations.append(kept)
    return type(case)(case.name, case.events, expectations)


def run_rule_tests(result, shipped_tests):
    """Run the account's own tests, and the timeline tests in the folder `shipped_tests` for the
    draft's unchanged rules; fill in the result."""
    draft = result.rulebook
    if result.tests.strip():
        try:
            cases = parse_tests(result.tests)
        except TimelineError as exc:
            result.test_problems.append(str(exc))
            cases = []
        for case in cases:
            outcome = run_test_case(draft, case, "account tests")
            result.tests_run += 1
            result.test_failures += [f"{case.name}: {failure}" for failure in outcome.failures]
    keep = unchanged_rules(draft)
    if not keep:
        return
    subset = Rulebook(draft.version, tuple(rule for rule in draft.rules if rule.id in keep), draft.source_text)
    for path in sorted(Path(shipped_tests).glob("*.yaml")):
        _, cases = load_test_file(path)
        for case in cases:
            outcome = run_test_case(subset, _restricted(case, keep), path.name)
            result.tests_run += 1
            result.test_failures += [f"{path.name}: {case.name}: {failure}" for failure in outcome.failures]


def parse_tests(text):
    """An account's rule tests (a timeline test document without `rulebook:`) as test cases."""
    document = read_test_document(text, "rule tests", TEST_FILE_KEYS - {"rulebook"})
    return parse_test_cases(document, "rule tests")
