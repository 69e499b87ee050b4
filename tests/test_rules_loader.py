"""The loader turns rules.yaml into rules, or reports every problem at its line and column."""

import textwrap
from pathlib import Path

import pytest

from webapp.rules import RulebookError, load_rulebook, load_rulebook_file
from webapp.rules.model import SamePath

SHIPPED_RULES = Path(__file__).parents[1] / "rules.yaml"

VALID_RULE = """\
version: 1
rules:
  - id: ready_to_schedule
    category: Ready to Schedule
    event: application.stage_changed
    match: {stage.scheduling_enabled: true}
    key: [application.id, stage.id]
    assignee: [candidate.coordinator, job.coordinator]
    title: "{{ candidate.name }} — {{ stage.name }}"
    action: "Schedule {{ candidate.name }}"
    resolve_on:
      - {event: schedule.created, same: [application.id, stage.id]}
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(RulebookError) as caught:
        load_rulebook(textwrap.dedent(text))
    return [str(problem) for problem in caught.value.problems]


def only_problem(text: str) -> str:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


def test_the_shipped_rulebook_loads_cleanly():
    rulebook = load_rulebook_file(SHIPPED_RULES)
    assert [rule.id for rule in rulebook.rules] == [
        "ready_to_schedule",
        "schedule_cancelled",
        "interviewer_declined",
        "room_declined",
        "candidate_declined",
        "new_job",
        "new_stage",
        "new_interview",
        "broken_integration",
    ]
    assert all(rule.description and rule.resolve_on for rule in rulebook.rules)


def test_a_valid_rule_becomes_an_immutable_typed_rule():
    rule = load_rulebook(VALID_RULE).rules[0]
    assert rule.key == ("application.id", "stage.id")
    assert rule.assignee == ("candidate.coordinator", "job.coordinator")
    assert rule.priority == "normal"
    assert rule.resolve_on[0].same == (
        SamePath("application.id", "application.id"),
        SamePath("stage.id", "stage.id"),
    )
    with pytest.raises(AttributeError):
        rule.priority = "high"


def test_a_misspelt_resolver_is_reported_with_a_suggestion():
    text = VALID_RULE.replace("job.coordinator]", "job.cordinator]")
    assert only_problem(text) == (
        "rules.yaml:8:39: rules[0].assignee[1]: unknown resolver 'job.cordinator' (did you mean 'job.coordinator'?)"
    )


def test_a_resolver_the_event_type_cannot_have_is_reported():
    text = VALID_RULE.replace("job.coordinator]", "integration.owner]")
    assert only_problem(text) == (
        "rules.yaml:8:39: rules[0].assignee[1]: resolver 'integration.owner' needs the"
        " integration, which application.stage_changed events do not have"
    )


def test_yaml_syntax_errors_have_a_position():
    text = VALID_RULE.replace("key: [application.id, stage.id]", "key: [application.id, stage.id")
    problem = only_problem(text)
    assert problem.startswith("rules.yaml:8:13: YAML syntax error:")


def test_duplicate_keys_are_errors():
    text = VALID_RULE.replace("    title:", "    key: [application.id]\n    title:")
    assert only_problem(text) == ("rules.yaml:9:5: rules[0]: duplicate key 'key' (first defined on line 7)")


def test_unknown_keys_are_errors_at_every_level():
    text = VALID_RULE.replace("version: 1", "version: 1\nrulez: []").replace(
        "same: [application.id, stage.id]}", "same: [application.id], when: now}"
    )
    assert problems_of(text) == [
        "rules.yaml:2:1: unknown key 'rulez' (did you mean 'rules'?)",
        "rules.yaml:13:59: rules[0].resolve_on[0]: unknown key 'when'",
    ]


def test_missing_required_keys_are_errors():
    text = VALID_RULE.replace('    action: "Schedule {{ candidate.name }}"\n', "")
    assert only_problem(text) == "rules.yaml:3:5: rules[0]: missing required key 'action'"


def test_wrong_types_are_errors():
    text = VALID_RULE.replace("key: [application.id, stage.id]", "key: application.id")
    assert only_problem(text) == ("rules.yaml:7:10: rules[0].key: expected a list of strings, got a string")


def test_malformed_and_duplicate_rule_ids_are_errors():
    second = VALID_RULE.split("rules:\n")[1]
    text = VALID_RULE + second + second.replace("ready_to_schedule", "Ready-To-Schedule")
    assert problems_of(text) == [
        "rules.yaml:13:9: rules[1].id: duplicate rule id 'ready_to_schedule' (first used by rules[0] on line 3)",
        "rules.yaml:23:9: rules[2].id: malformed rule id 'Ready-To-Schedule': use lower case"
        " letters, digits and _, starting with a letter",
    ]


def test_unknown_event_types_are_errors():
    text = VALID_RULE.replace("event: application.stage_changed", "event: application.moved")
    assert only_problem(text) == (
        "rules.yaml:5:12: rules[0].event: unknown event type 'application.moved' (did you mean 'application.closed'?)"
    )


def test_match_paths_the_event_cannot_have_are_errors():
    text = VALID_RULE.replace("stage.scheduling_enabled", "stage.scheduling")
    assert only_problem(text) == (
        "rules.yaml:6:13: rules[0].match.stage.scheduling: path 'stage.scheduling' is not part"
        " of application.stage_changed events (did you mean 'stage.scheduling_enabled'?)"
    )


def test_key_paths_the_event_cannot_have_are_errors():
    text = VALID_RULE.replace("key: [application.id, stage.id]", "key: [application.id, schedule.id]")
    assert only_problem(text) == (
        "rules.yaml:7:27: rules[0].key[1]: path 'schedule.id' is not part of application.stage_changed events"
    )


def test_bad_priorities_are_errors():
    text = VALID_RULE.replace("    title:", "    priority: critical\n    title:")
    assert only_problem(text) == (
        "rules.yaml:9:15: rules[0].priority: unknown priority 'critical'; use low|normal|high|urgent"
    )


def test_templates_that_do_not_compile_are_errors():
    text = VALID_RULE.replace('"Schedule {{ candidate.name }}"', '"Schedule {{ candidate.name }"')
    problem = only_problem(text)
    assert problem.startswith("rules.yaml:10:13: rules[0].action: template does not compile:")


def test_templates_using_names_the_event_does_not_have_are_errors():
    text = VALID_RULE.replace(
        '"Schedule {{ candidate.name }}"',
        '"Schedule {{ schedule.id }} {{ candidate.nam }}"',
    )
    assert problems_of(text) == [
        "rules.yaml:10:13: rules[0].action: template uses 'candidate.nam', which"
        " application.stage_changed events do not have (did you mean 'candidate.name'?)",
        "rules.yaml:10:13: rules[0].action: template uses 'schedule', which"
        " application.stage_changed events do not have",
    ]


def test_same_must_name_a_path_of_the_rules_key():
    text = VALID_RULE.replace("same: [application.id, stage.id]", "same: [application.id, schedule.id]")
    assert only_problem(text) == (
        "rules.yaml:12:58: rules[0].resolve_on[0].same[1]: 'schedule.id' is not part of the"
        " rule's key (application.id, stage.id)"
    )


def test_the_mapping_form_of_same_checks_the_resolving_events_path():
    text = VALID_RULE.replace(
        "- {event: schedule.created, same: [application.id, stage.id]}",
        "- {event: application.stage_changed, same: {application.id: application.id, stage.id: previous_stage.idd}}",
    )
    assert only_problem(text) == (
        "rules.yaml:12:93: rules[0].resolve_on[0].same.stage.id: path 'previous_stage.idd' is not"
        " part of application.stage_changed events (did you mean 'previous_stage.id'?)"
    )


def test_a_broken_copy_of_the_shipped_rulebook_reports_every_problem_at_once():
    text = SHIPPED_RULES.read_text()
    text = text.replace(
        "[candidate.coordinator, job.coordinator, account.creator]", "[candidate.coordinator, job.cordinator]", 1
    )
    text = text.replace("priority: urgent", "priority: asap")
    text = text.replace("event: job.created", "event: job.opened")
    text = text.replace("id: new_stage", "id: new_job")
    with pytest.raises(RulebookError) as caught:
        load_rulebook(text)
    messages = [problem.message for problem in caught.value.problems]
    assert len(messages) == 4, messages
    assert "unknown resolver 'job.cordinator' (did you mean 'job.coordinator'?)" in messages
    assert any(message.startswith("unknown priority 'asap'") for message in messages)
    assert any(message.startswith("unknown event type 'job.opened'") for message in messages)
    assert any(message.startswith("duplicate rule id 'new_job'") for message in messages)
    assert str(caught.value).count("\n") == 3  # one problem per line


def test_matcher_shapes_are_checked():
    text = VALID_RULE.replace("{stage.scheduling_enabled: true}", "{stage.scheduling_enabled: {exist: true}}")
    assert only_problem(text) == (
        "rules.yaml:6:40: rules[0].match.stage.scheduling_enabled: unknown key 'exist' (did you mean 'exists'?)"
    )


DECLINE_RULE = """\
version: 1
defaults: {assignee: [account.creator]}
rules:
  - id: interviewer_declined
    category: Interviewer Declined
    event: attendee.responded
    match: {attendee.kind: interviewer, response: declined}
    key: [schedule.id, attendee.email]
    assignee: [candidate.coordinator]
    title: "{{ attendee.email }} declined"
    action: "Replace {{ attendee.email }}"
    resolve_on:
      - event: schedule.updated
        same: {schedule.id: schedule.id, attendee.email: {in: changes.removed_attendees}}
"""


def test_same_can_take_the_tasks_value_from_a_list_of_the_resolving_event():
    rule = load_rulebook(DECLINE_RULE).rules[0]
    assert rule.resolve_on[0].same == (
        SamePath("schedule.id", "schedule.id"),
        SamePath("attendee.email", "changes.removed_attendees", member=True),
    )
    assert rule.fallback == ("account.creator",)


def test_in_and_contains_need_a_list():
    text = DECLINE_RULE.replace("{in: changes.removed_attendees}", "{in: changes.summary}")
    assert only_problem(text) == (
        "rules.yaml:14:63: rules[0].resolve_on[0].same.attendee.email.in: 'in' needs a list,"
        " and changes.summary of schedule.updated events is not one"
    )
    text = DECLINE_RULE.replace("{in: changes.removed_attendees}", "{inn: changes.removed_attendees}")
    assert any("unknown key 'inn' (did you mean 'in'?)" in problem for problem in problems_of(text))
    text = DECLINE_RULE.replace(
        "same: {schedule.id: schedule.id, attendee.email: {in: changes.removed_attendees}}",
        "match: {changes.summary: {contains: x}}\n        same: [schedule.id]",
    )
    assert "'contains' needs a list, and changes.summary of schedule.updated events is not one" in only_problem(text)
    text = DECLINE_RULE.replace("changes.removed_attendees}}", "changes.removed_atendees}}")
    assert "(did you mean 'changes.removed_attendees'?)" in only_problem(text)


DUE_RULE = """\
version: 1
rules:
  - id: interviewer_declined
    category: Interviewer Declined
    event: attendee.responded
    key: [schedule.id, attendee.email]
    assignee: [candidate.coordinator]
    due: {before: schedule.starts_at, by: 1h}
    title: "{{ attendee.email }} declined"
    action: "Replace them"
"""


def test_due_is_a_duration_after_the_event_a_time_of_the_event_or_a_while_before_one():
    from datetime import timedelta

    from webapp.rules.model import Due

    assert load_rulebook(DUE_RULE).rules[0].due == Due(-timedelta(hours=1), "schedule.starts_at")
    assert load_rulebook(DUE_RULE.replace("{before: schedule.starts_at, by: 1h}", "schedule.starts_at")).rules[
        0
    ].due == Due(timedelta(0), "schedule.starts_at")
    for text, offset in (("1d", timedelta(days=1)), ("30m", timedelta(minutes=30)), ("0m", timedelta(0))):
        rule = load_rulebook(VALID_RULE.replace("    title:", f"    due: {text}\n    title:")).rules[0]
        assert rule.due == Due(offset)
    assert load_rulebook(VALID_RULE).rules[0].due is None


@pytest.mark.parametrize(
    "due, problem",
    [
        ("1 day", "rules.yaml:9:10: rules[0].due: expected a duration such as 30m, 2h or 1d, got '1 day'"),
        ("30", "rules.yaml:9:10: rules[0].due: expected a duration such as 30m, 2h or 1d, got '30'"),
        ("1h before", "rules.yaml:9:10: rules[0].due: expected a duration such as 30m, 2h or 1d, got '1h before'"),
        (
            "stage.name",
            "rules.yaml:9:10: rules[0].due: 'stage.name' is not a time of application.stage_changed events; "
            "they have none; use a duration such as 1d",
        ),
        ("[1d]", "rules.yaml:9:10: rules[0].due: expected a string, got a list"),
    ],
)
def test_bad_due_values_are_errors_at_their_line_and_column(due, problem):
    assert only_problem(VALID_RULE.replace("    title:", f"    due: {due}\n    title:")) == problem


@pytest.mark.parametrize(
    "due, problem",
    [
        ("{before: schedule.starts_at}", "rules.yaml:8:10: rules[0].due: missing required key 'by'"),
        (
            "{before: schedule.starts_at, by: soon}",
            "rules.yaml:8:43: rules[0].due.by: expected a duration such as 30m, 2h or 1d, got 'soon'",
        ),
        (
            "{before: schedule.start, by: 1h}",
            "rules.yaml:8:19: rules[0].due.before: 'schedule.start' is not a time of attendee.responded events; "
            "use schedule.starts_at",
        ),
        ("{after: schedule.starts_at, by: 1h}", "rules.yaml:8:11: rules[0].due: unknown key 'after'"),
    ],
)
def test_bad_due_mappings_are_errors_at_their_line_and_column(due, problem):
    text = DUE_RULE.replace("{before: schedule.starts_at, by: 1h}", due)
    problems = problems_of(text)
    assert problem in problems, problems


def test_due_times_of_the_shipped_rulebook():
    due = {rule.id: rule.due for rule in load_rulebook_file(SHIPPED_RULES).rules}
    assert due["interviewer_declined"].path == "schedule.starts_at"
    assert due["ready_to_schedule"].path is None and due["ready_to_schedule"].offset.days == 1
    assert due["new_job"] is None
