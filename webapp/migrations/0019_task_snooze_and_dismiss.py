"""Tasks can be snoozed and dismissed. A snoozed task has the status `snoozed` and `snoozed_until`,
the time it wakes (NULL: until an event its rule's `wake_on` names); it is still the live task of
its rule and key, so the one-open-task index (0011) now counts open and snoozed tasks alike, and the
periodic sweep finds the snoozes that have ended through an index on (status, snoozed_until). A
dismissed task is a completed one with a `dismiss_reason` (and a note), so it lists, reopens and
reads like any completed task."""

from peewee import *

ONE_LIVE = "task_one_open_per_key"
SNOOZES = "task_status_snoozed_until"


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("task", "snoozed_until", DateTimeField(null=True)),
        migrator.add_column("task", "dismiss_reason", CharField(null=True)),
        migrator.add_column("task", "dismiss_note", TextField(null=True)),
        migrator.add_index("task", ("status", "snoozed_until"), False),
    )
    db.execute_sql(f"DROP INDEX IF EXISTS {ONE_LIVE}")
    db.execute_sql(
        f"CREATE UNIQUE INDEX {ONE_LIVE} ON task (account_id, rule_id, key) WHERE status IN ('open', 'snoozed')"
    )


def down(migrator, db):
    db.execute_sql("UPDATE task SET status = 'open' WHERE status = 'snoozed'")
    db.execute_sql(f"DROP INDEX IF EXISTS {ONE_LIVE}")
    db.execute_sql(f"CREATE UNIQUE INDEX {ONE_LIVE} ON task (account_id, rule_id, key) WHERE status = 'open'")
    migrator.migrate(
        migrator.drop_index("task", SNOOZES),
        migrator.drop_column("task", "snoozed_until"),
        migrator.drop_column("task", "dismiss_reason"),
        migrator.drop_column("task", "dismiss_note"),
    )
