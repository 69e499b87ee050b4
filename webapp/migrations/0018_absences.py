"""Out of office: `absence` (a person away from a time until a time, their backup, whether their
open tasks go to the backup at the start, and when the start's hand-over and the return's hand-back
were done), and `task.covering_for_id`, whom a task's assignee covers for while they are away."""

from peewee import *

COVERING = "task_covering_for"


def up(migrator, db):
    class Account(Model):
        class Meta:
            database = db
            table_name = "account"

    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class Absence(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        user = ForeignKeyField(User, on_delete="CASCADE")
        starts_at = DateTimeField()
        ends_at = DateTimeField()
        backup = ForeignKeyField(User, null=True, on_delete="SET NULL")
        hand_over = BooleanField(default=True)
        set_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField()
        handed_over_at = DateTimeField(null=True)
        returned_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "absence"
            indexes = (
                (("account", "user", "ends_at"), False),
                (("returned_at", "ends_at"), False),
            )

    db.create_tables([Absence])
    migrator.migrate(
        migrator.add_column(
            "task", "covering_for_id", ForeignKeyField(User, field=User.id, null=True, on_delete="SET NULL")
        ),
    )
    # The tasks that cover for someone (few), for the sweep's look for those left covering.
    db.execute_sql(f"CREATE INDEX {COVERING} ON task (covering_for_id, account_id) WHERE covering_for_id IS NOT NULL")


def down(migrator, db):
    db.execute_sql(f"DROP INDEX IF EXISTS {COVERING}")
    migrator.migrate(migrator.drop_column("task", "covering_for_id"))
    db.execute_sql("DROP TABLE absence")
