"""Tasks can be snoozed and dismissed. A snoozed task has the status `snoozed` and `snoozed_until`,
the time it wakes (NULL: until an event its rule's `wake_on` names); it is still the live task of
its rule and key, so the one-open-task index (0011) now counts open and snoozed tasks alike, and the
periodic sweep finds the snoozes that have ended through a partial index of the tasks with a
`snoozed_until` (few: a status-led index would be taken by the planners for open tasks too). A
dismissed task is a completed one with a `dismiss_reason` (and a note), so it lists, reopens and
reads like any completed task; two partial indexes, of dismissed tasks only (a coordinator's and
everyone's, in the listing order of 0017), serve the API's `status=dismissed` pages."""

from peewee import *

ONE_LIVE = "task_one_open_per_key"
SNOOZES = "task_status_snoozed_until"
DISMISSED = {
    "task_dismissed_assignee_due": "account_id, assignee_id, status, due_at, priority_rank, created_at, id",
    "task_dismissed_due": "account_id, status, due_at, priority_rank, created_at, id",
}


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("task", "snoozed_until", DateTimeField(null=True)),
        migrator.add_column("task", "dismiss_reason", CharField(null=True)),
        migrator.add_column("task", "dismiss_note", TextField(null=True)),
    )
    db.execute_sql(f"CREATE INDEX {SNOOZES} ON task (snoozed_until) WHERE snoozed_until IS NOT NULL")
    db.execute_sql(f"DROP INDEX IF EXISTS {ONE_LIVE}")
    db.execute_sql(
        f"CREATE UNIQUE INDEX {ONE_LIVE} ON task (account_id, rule_id, key) WHERE status IN ('open', 'snoozed')"
    )
    for name, columns in DISMISSED.items():
        db.execute_sql(f"CREATE INDEX {name} ON task ({columns}) WHERE dismiss_reason IS NOT NULL")


def down(migrator, db):
    for name in DISMISSED:
        db.execute_sql(f"DROP INDEX IF EXISTS {name}")
    db.execute_sql("UPDATE task SET status = 'open' WHERE status = 'snoozed'")
    db.execute_sql(f"DROP INDEX IF EXISTS {SNOOZES}")
    db.execute_sql(f"DROP INDEX IF EXISTS {ONE_LIVE}")
    db.execute_sql(f"CREATE UNIQUE INDEX {ONE_LIVE} ON task (account_id, rule_id, key) WHERE status = 'open'")
    migrator.migrate(
        migrator.drop_column("task", "snoozed_until"),
        migrator.drop_column("task", "dismiss_reason"),
        migrator.drop_column("task", "dismiss_note"),
    )
