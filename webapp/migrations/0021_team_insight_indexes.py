"""The Team page's figures, each read from an index that holds every column it needs (no row is
visited): open tasks by coordinator and category, with the overdue ones (task_team_open, in the
order the figure groups them); tasks opened per day (task_team_created); tasks completed per day
and their times to complete per category (task_team_completed, which holds whether a task was
dismissed: a dismissed task closed that day, but its time is no time to complete)."""

from peewee import *

# Named, as 0017's are: the generated names would be long and say little.
NEW = {
    "task_team_open": ("account_id", "status", "assignee_id", "category", "due_at"),
    "task_team_created": ("account_id", "created_at"),
    "task_team_completed": ("account_id", "status", "completed_at", "category", "created_at", "dismiss_reason"),
}


def up(migrator, db):
    migrator.migrate(*(migrator.add_index("task", columns, False, name=name) for name, columns in NEW.items()))


def down(migrator, db):
    migrator.migrate(*(migrator.drop_index("task", name) for name in NEW))
