"""`rules check`, `rules test` and `rules explain`, run as a user would run them."""

import json
from pathlib import Path

from click.testing import CliRunner

from webapp.rules.cli import rules

ROOT = Path(__file__).parents[1]
SHIPPED_RULES = ROOT / "rules.yaml"


def run(*args, env=None):
    return CliRunner().invoke(rules, [str(arg) for arg in args], env=env)


def test_check_reports_ok_and_the_number_of_rules():
    result = run("check", SHIPPED_RULES)
    assert result.exit_code == 0
    assert result.output == f"{SHIPPED_RULES}: OK, 9 rules\n"


def test_check_uses_rules_path_from_the_environment():
    result = run("check", env={"RULES_PATH": str(SHIPPED_RULES)})
    assert result.exit_code == 0
    assert "OK, 9 rules" in result.output


def test_check_prints_every_problem_with_line_and_column_and_fails(tmp_path):
    broken = tmp_path / "rules.yaml"
    text = SHIPPED_RULES.read_text()
    text = text.replace("priority: urgent", "priority: asap")
    text = text.replace("[job.coordinator, account.creator]", "[job.cordinator]", 1)
    broken.write_text(text)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "job.cordinator" in row)
    result = run("check", broken)
    assert result.exit_code == 1
    assert f"{broken}:{line}:16: rules[5].assignee[0]: unknown resolver 'job.cordinator'" in (result.output)
    assert "rules[8].priority: unknown priority 'asap'" in result.output
    assert result.output.endswith("2 problems\n")


def test_test_runs_timelines_and_reports_passes():
    result = run("test", ROOT / "rules.tests/broken_integration.yaml")
    assert result.exit_code == 0, result.output
    assert "PASS  a failing integration opens an urgent task for its owner" in result.output
    assert result.output.endswith("6 passed, 0 failed\n")


def test_test_reports_expected_against_got_and_fails(tmp_path):
    timeline = tmp_path / "wrong.yaml"
    timeline.write_text(
        """
tests:
  - name: a new job opens a task for the wrong person
    events:
      - {type: job.created, occurred_at: "2026-11-28T10:00:00Z",
         data: {account: {name: Acme}, job: {id: j1, name: Backend, coordinator: {email: jo@acme.test}}}}
    expect:
      - after: 1
        open: [{rule: new_job, key: {job.id: j1}, assignee: someone@acme.test}]
      - after: 1
        open: [{rule: new_job, key: {job.id: j2}}]
"""
    )
    result = run("test", timeline, "--rules", SHIPPED_RULES)
    assert result.exit_code == 1
    assert "FAIL  a new job opens a task for the wrong person" in result.output
    assert (
        "after 1 event(s): open new_job {job.id: j1}: assignee is 'jo@acme.test', expected 'someone@acme.test'"
    ) in result.output
    assert "missing:    new_job {job.id: j2}" in result.output
    assert "unexpected: new_job {job.id: j1}" in result.output
    assert result.output.endswith("0 passed, 1 failed\n")


def test_explain_says_for_every_rule_what_the_event_does(tmp_path):
    event = {
        "id": "e1",
        "source": "api",
        "type": "application.stage_changed",
        "occurred_at": "2026-11-28T10:00:00Z",
        "data": {
            "account": {"name": "Acme", "creator": {"email": "founder@acme.test"}},
            "application": {"id": "a1"},
            "candidate": {"id": "c1", "name": "Ada", "coordinator": {"email": "pat@acme.test"}},
            "job": {"id": "j1", "name": "Backend"},
            "stage": {"id": "s2", "name": "Onsite", "scheduling_enabled": True},
            "previous_stage": {"id": "s1", "name": "Screen"},
        },
    }
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    result = run("explain", path, "--rules", SHIPPED_RULES)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 9
    assert lines[0].startswith(
        "ready_to_schedule: opens a task (key application.id=a1, stage.id=s2) for pat@acme.test;"
        " completes open tasks with application.id=a1, stage.id=s1"
    )
    assert "new_job: no — event type is application.stage_changed, rule wants job.created" in lines


def test_explain_rejects_an_event_without_a_time(tmp_path):
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"type": "job.created", "data": {}}))
    result = run("explain", path, "--rules", SHIPPED_RULES)
    assert result.exit_code == 1
    assert "an event needs occurred_at" in result.output
