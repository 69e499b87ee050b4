"""Tasks are due: `due_at`, from the rule's `due:` (a far-future time stands for "no due time", so
that tasks without one list last on both databases and a cursor compares plain values), and
`waiting_since`, when the event that raised the task happened (what "waiting 3 days" counts from).
The listing indexes lead with `due_at` after the status, so the list stays one indexed read in its
new order: overdue first, then soonest, then those without a due time."""

from peewee import *
from playhouse.migrate import make_index_name

NO_DUE = "9999-12-31 00:00:00"
OLD = (
    ("account_id", "assignee_id", "status", "priority_rank", "created_at", "id"),
    ("account_id", "status", "priority_rank", "created_at", "id"),
)
# Named, since the generated name of the first is longer than PostgreSQL keeps (63 characters).
NEW = {
    "task_listing_assignee_due": ("account_id", "assignee_id", "status", "due_at", "priority_rank", "created_at", "id"),
    "task_listing_due": ("account_id", "status", "due_at", "priority_rank", "created_at", "id"),
}


def up(migrator, db):
    migrator.migrate(
        # A database default too, so that rows written without a due time (raw SQL) have none.
        migrator.add_column("task", "due_at", DateTimeField(default=NO_DUE, constraints=[SQL(f"DEFAULT '{NO_DUE}'")])),
        migrator.add_column("task", "waiting_since", DateTimeField(null=True)),
    )
    # Tasks opened before this migration wait since the event that raised them (or since they were
    # written, when that event is gone); their rules' due times apply to tasks opened from now on.
    db.execute_sql(
        "UPDATE task SET waiting_since = COALESCE("
        "(SELECT occurred_at FROM event WHERE event.id = task.raised_by_event_id), created_at)"
    )
    migrator.migrate(*(migrator.add_index("task", columns, False, name=name) for name, columns in NEW.items()))
    migrator.migrate(*(migrator.drop_index("task", make_index_name("task", c)) for c in OLD))


def down(migrator, db):
    migrator.migrate(*(migrator.add_index("task", columns, False) for columns in OLD))
    migrator.migrate(*(migrator.drop_index("task", name) for name in NEW))
    migrator.migrate(migrator.drop_column("task", "due_at"), migrator.drop_column("task", "waiting_since"))
