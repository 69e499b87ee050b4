"""Task listings read in the order of an index, never sorted: a coordinator's list and everyone's
(the API's pages, `id` last so that PostgreSQL needs no sort for the tie-break either), and "Show
completed", newest first, which sorted the coordinator's whole history on `completed_at`. The index
on (account, assignee, status, priority_rank, created_at) is replaced by the one ending in `id`."""

from peewee import *

OLD = ("account_id", "assignee_id", "status", "priority_rank", "created_at")
NEW = (
    ("account_id", "assignee_id", "status", "priority_rank", "created_at", "id"),
    ("account_id", "status", "priority_rank", "created_at", "id"),
    ("account_id", "assignee_id", "status", "completed_at", "id"),
)


def _name(columns):
    return "task_" + "_".join(columns)


def up(migrator, db):
    migrator.migrate(*(migrator.add_index("task", columns, False) for columns in NEW))
    migrator.migrate(migrator.drop_index("task", _name(OLD)))


def down(migrator, db):
    migrator.migrate(migrator.add_index("task", OLD, False))
    migrator.migrate(*(migrator.drop_index("task", _name(columns)) for columns in NEW))
