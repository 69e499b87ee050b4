"""Per-account rulebooks: versions of their own, the checks before a save, removed rules' open
tasks, restore, and the worker using a new version from the next event on."""

import re
import shutil
from pathlib import Path

import pytest

from tests import events as ev
from webapp.models import RulebookVersion, Task, TaskHistory
from webapp.pipeline import drain
from webapp.rulebook import (
    SaveRefused,
    assess,
    history,
    in_force,
    replay,
    restore_version,
    rulebook_for,
    save_version,
)
from webapp.rulebook.versions import side_by_side
from webapp.rules.timeline import load_test_file

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = (ROOT / "rules.yaml").read_text()
ACTION = '    action: "Set up {{ job.name }} for scheduling"\n'


def urgent_new_jobs(text=DEFAULT):
    """The default rulebook with New Job tasks raised as urgent."""
    assert ACTION in text
    return text.replace(ACTION, ACTION + "    priority: urgent\n")


def without_new_job(text=DEFAULT):
    """The default rulebook without the new_job rule."""
    return re.sub(r"  - id: new_job\n.*?(?=  - id: new_stage)", "", text, flags=re.S)


def broken(text=DEFAULT):
    return text.replace("event: job.created", "event: job.createdd")


def test_an_account_starts_from_the_default_rulebook_and_its_saves_are_its_own(make_account, app):
    acme, globex = make_account("Acme"), make_account("Globex")
    assert in_force(acme.account).version is None
    assert rulebook_for(acme.account).rule("new_job").priority == "normal"

    version = save_version(acme.account, urgent_new_jobs(), author=acme.user, message="New jobs are urgent")

    assert (version.number, version.message, version.author_id) == (1, "New jobs are urgent", acme.user.id)
    assert rulebook_for(acme.account).rule("new_job").priority == "urgent"
    assert rulebook_for(globex.account).rule("new_job").priority == "normal"


def test_the_worker_uses_a_saved_version_from_the_next_event_on(make_account, app):
    acme = make_account()
    acme.post_event(ev.job_event("created", job=dict(ev.JOB, id="job-a")))
    drain()
    save_version(acme.account, urgent_new_jobs(), author=acme.user, message="urgent")
    acme.post_event(ev.job_event("created", job=dict(ev.JOB, id="job-b")))
    drain()
    priorities = {t["about"]["job"]["id"]: t["priority"] for t in acme.tasks()}
    assert priorities == {"job-a": "normal", "job-b": "urgent"}


def test_a_draft_with_a_mistake_is_refused_with_its_line_and_column(make_account, app):
    acme = make_account()
    with pytest.raises(SaveRefused) as refused:
        save_version(acme.account, broken(), author=acme.user)
    problems = refused.value.assessment.problems
    line = DEFAULT.splitlines().index("    event: job.created") + 1
    assert [(p.line, p.column) for p in problems] == [(line, 12)]
    assert "job.createdd" in problems[0].message
    assert RulebookVersion.select().count() == 0


def test_the_accounts_own_rule_tests_must_pass(make_account, app):
    acme = make_account()
    tests = """
tests:
  - name: a new job is a normal task
    events:
      - {type: job.created, occurred_at: "2026-11-28T10:00:00Z",
         data: {job: {id: j1, name: Backend}, account: {name: Acme, creator: {email: a@acme.test, name: A}}}}
    expect:
      - after: 1
        open: [{rule: new_job, key: {job.id: j1}, priority: normal}]
"""
    assert assess(acme.account, DEFAULT, tests).tests_pass
    with pytest.raises(SaveRefused) as refused:
        save_version(acme.account, urgent_new_jobs(), tests, author=acme.user)
    assert "priority is 'urgent', expected 'normal'" in refused.value.assessment.test_failures[0]
    assert RulebookVersion.select().count() == 0


def test_shipped_tests_run_for_the_rules_a_draft_keeps_unchanged(make_account, app):
    acme = make_account()
    unchanged = assess(acme.account, DEFAULT)
    changed = assess(acme.account, urgent_new_jobs())
    assert unchanged.tests_pass and changed.tests_pass
    # The changed rule's shipped cases no longer apply to it; the others still run.
    assert 0 < changed.tests_run <= unchanged.tests_run


def test_shipped_tests_are_the_timeline_files_in_the_folder_rule_tests_path_names(make_account, app, tmp_path):
    acme = make_account()
    app.config["RULE_TESTS_PATH"] = str(tmp_path)
    assert assess(acme.account, DEFAULT).tests_run == 0
    shutil.copy(ROOT / "rules.tests" / "setup.yaml", tmp_path)
    _, cases = load_test_file(tmp_path / "setup.yaml")
    assert assess(acme.account, DEFAULT).tests_run == len(cases) > 0


def test_removing_a_rule_with_open_tasks_asks_what_to_do_and_completing_them_is_recorded(make_account, app):
    acme = make_account()
    acme.post_event(ev.job_event("created"))
    drain()
    with pytest.raises(SaveRefused) as refused:
        save_version(acme.account, without_new_job(), author=acme.user)
    assert refused.value.assessment.removed == {"new_job": 1}

    version = save_version(acme.account, without_new_job(), author=acme.user, choices={"new_job": "complete"})

    assert version.removed_rules == {"new_job": "complete"}
    task = Task.get()
    assert task.status == "completed" and "removed in rulebook version 1" in task.completion_reason
    assert [h.kind for h in TaskHistory.history_of(task)] == ["opened", "completed"]


def test_keeping_the_open_tasks_of_a_removed_rule_is_recorded_in_their_history(make_account, app):
    acme = make_account()
    acme.post_event(ev.job_event("created"))
    drain()
    save_version(acme.account, without_new_job(), author=acme.user, choices={"new_job": "keep"})
    task = Task.get()
    assert task.status == "open"
    last = TaskHistory.history_of(task)[-1]
    assert last.kind == "rule_removed" and "kept open" in last.note


def test_an_old_version_is_restored_as_a_new_version_with_diffs_in_the_history(make_account, app):
    acme = make_account()
    save_version(acme.account, urgent_new_jobs(), author=acme.user, message="urgent")
    save_version(acme.account, DEFAULT, author=acme.user, message="back to normal")

    restored = restore_version(acme.account, 1, author=acme.user)

    assert (restored.number, restored.restored_from) == (3, 1)
    assert rulebook_for(acme.account).rule("new_job").priority == "urgent"
    entries = history(acme.account)
    assert [e["version"].number for e in entries] == [3, 2, 1]
    added, removed = changed_lines(entries[0]["diff"]), changed_lines(entries[1]["diff"])
    assert added == {"old": [], "new": ["    priority: urgent"]}
    assert removed == {"old": ["    priority: urgent"], "new": []}
    assert (entries[0]["diff"]["old_name"], entries[0]["diff"]["new_name"]) == ("Version 2", "Version 3")
    assert entries[-1]["diff"]["old_name"] == "Default rulebook"


def changed_lines(compared):
    """The removed (old) and added (new) lines of a side-by-side diff."""
    rows = [row for hunk in compared["hunks"] for row in hunk["rows"]]
    return {side: [row[side][1] for row in rows if row[side] and row[side][2] != "same"] for side in ("old", "new")}


def test_a_side_by_side_diff_pairs_an_edited_line_with_its_new_text_and_numbers_both_sides():
    old = "a\nb\nc\nd\ne\nf\ng\nh\n"
    new = "a\nb\nc\nD\ne\nf\ng\nh\ni\n"
    first, second = side_by_side(old, new, context=1)
    assert first["rows"] == [
        {"old": (3, "c", "same"), "new": (3, "c", "same")},
        {"old": (4, "d", "remove"), "new": (4, "D", "add")},
        {"old": (5, "e", "same"), "new": (5, "e", "same")},
    ]
    assert second["rows"] == [
        {"old": (8, "h", "same"), "new": (8, "h", "same")},
        {"old": None, "new": (9, "i", "add")},
    ]
    assert side_by_side(old, old) == []


def test_a_preview_replays_recent_events_through_both_rulebooks(make_account, app):
    acme = make_account()
    acme.post_event(ev.job_event("created"))
    acme.post_event(ev.stage_changed())
    drain()
    draft = assess(acme.account, without_new_job()).rulebook

    result = replay(acme.account, draft)

    assert result.events == 2
    assert [(d.rule_id, d.change) for d in result.differences] == [("new_job", "would no longer open")]
    assert Task.select().count() == 2  # the replay changed nothing


def test_a_stored_version_that_no_longer_loads_keeps_the_last_valid_one_in_force(make_account, app):
    acme = make_account()
    save_version(acme.account, urgent_new_jobs(), author=acme.user)
    assert rulebook_for(acme.account).rule("new_job").priority == "urgent"
    # As if an engine upgrade no longer accepted what was valid when it was saved.
    RulebookVersion.create(account=acme.account, number=2, text=broken(), message="stale")
    assert rulebook_for(acme.account).rule("new_job").priority == "urgent"
