"""An account's saved rulebook versions: saving a draft through the checks (the web page and the
CLI both save through `save_version`), settling the open tasks of the rules it removes,
restoring an old version, and the history with its diffs.
"""

from __future__ import annotations

import difflib

from peewee import IntegrityError

from ..db import database
from ..models import RulebookVersion, Task, TaskHistory, utcnow
from .current import default_text
from .drafts import assess

# What may be done with the open tasks of a rule a version removes.
REMOVAL_CHOICES = ("complete", "keep")


class SaveRefused(Exception):
    """The draft cannot replace the rulebook in force; `assessment` says why."""

    def __init__(self, assessment, reason):
        super().__init__(reason)
        self.assessment = assessment
        self.reason = reason


def save_version(account, text, tests="", author=None, message="", choices=None, restored_from=None):
    """Store the draft as the account's newest version, or raise SaveRefused.

    choices: {rule_id: "complete" | "keep"} for each removed rule that has open tasks; the
    choice is recorded in the version and in the history of each of those tasks.
    """
    result = assess(account, text, tests)
    if not result.valid:
        raise SaveRefused(result, "the rulebook has problems")
    if not result.tests_pass:
        raise SaveRefused(result, "rule tests fail")
    choices = {rule_id: choice for rule_id, choice in (choices or {}).items() if rule_id in result.removed}
    missing = [rule_id for rule_id in result.removed if choices.get(rule_id) not in REMOVAL_CHOICES]
    if missing:
        raise SaveRefused(result, "say what to do with the open tasks of " + ", ".join(missing))
    author_id = getattr(author, "id", author)
    for _ in range(3):
        try:
            with database.atomic():
                latest = RulebookVersion.latest(account)
                number = (latest.number if latest else 0) + 1
                version = RulebookVersion.create(
                    account=account,
                    number=number,
                    text=text,
                    tests=tests or "",
                    author=author_id,
                    message=message.strip() or f"Version {number}",
                    restored_from=restored_from,
                    removed_rules=choices,
                )
                _settle_removed_tasks(account, version, choices, author_id)
            return version
        except IntegrityError:
            continue  # another admin saved the same number a moment ago: take the next one
    raise SaveRefused(result, "the rulebook is being saved by someone else; try again")


def _settle_removed_tasks(account, version, choices, author_id):
    for task in Task.open_of_rules(account, set(choices)):
        choice = choices[task.rule_id]
        if choice == "complete":
            note = f"rule {task.rule_id} was removed in rulebook version {version.number}"
            task.status = Task.COMPLETED
            task.completed_at = utcnow()
            task.completed_by_user = author_id
            task.completed_by_event = None
            task.completed_on_behalf_of = None
            task.completion_reason = note
            task.snoozed_until = None  # a snoozed task of the removed rule is completed too
            task.save()
            TaskHistory.create(account=account, task=task, kind="completed", user=author_id, note=note)
        else:
            note = f"rule {task.rule_id} was removed in rulebook version {version.number}; the task was kept open"
            TaskHistory.create(account=account, task=task, kind="rule_removed", user=author_id, note=note)


def restore_version(account, number, author=None, choices=None, message=""):
    """Make an old version the newest again (as a new version), through the same checks as a save."""
    old = RulebookVersion.of_account(account, number)
    if old is None:
        raise LookupError(f"no version {number}")
    return save_version(
        account,
        old.text,
        old.tests,
        author=author,
        message=message or f"Restored version {number}",
        choices=choices,
        restored_from=number,
    )


# -- history ---------------------------------------------------------------------------------------


def side_by_side(old, new, context=2):
    """The changes between two rulebook texts as hunks of side-by-side rows, for the history.

    Each hunk is {"old_start", "new_start", "rows"}; each row pairs an old line with a new one:
    {"old": (number, text, kind) or None, "new": (number, text, kind) or None}, kind being
    same, remove or add. Replaced lines are paired in order, so an edit reads across one row."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    hunks = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        rows = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [
                    {"old": (i + 1, old_lines[i], "same"), "new": (j + 1, new_lines[j], "same")}
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            for k in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + k, j1 + k
                rows.append(
                    {
                        "old": (i + 1, old_lines[i], "remove") if i < i2 else None,
                        "new": (j + 1, new_lines[j], "add") if j < j2 else None,
                    }
                )
        hunks.append({"old_start": group[0][1] + 1, "new_start": group[0][3] + 1, "rows": rows})
    return hunks


def compared(version, before):
    """What the history shows for `version` against `before` (an older version, or None for the
    default rulebook): the two names and the side-by-side hunks."""
    old_text = before.text if before else default_text()
    old_name = f"Version {before.number}" if before else "Default rulebook"
    return {
        "old_name": old_name,
        "new_name": f"Version {version.number}",
        "hunks": side_by_side(old_text, version.text),
    }


def history(account):
    """The account's versions, newest first, each with its diff against the one before it."""
    versions = RulebookVersion.history(account)
    entries = []
    for index, version in enumerate(versions):
        before = versions[index + 1] if index + 1 < len(versions) else None
        entries.append({"version": version, "diff": compared(version, before)})
    return entries
