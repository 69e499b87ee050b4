"""A task keeps the ATS id of the candidate it is about (`candidate_external_id`, indexed), so that
handing a candidate's open tasks to their new coordinator, or to the survivor of a merge, is a
query rather than a scan of every open task. Existing tasks are filled in from their subjects."""

import json

from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("task", "candidate_external_id", CharField(null=True)),
        migrator.add_index("task", ("account_id", "status", "candidate_external_id"), False),
    )
    p = db.param
    for task_id, subjects in db.execute_sql("SELECT id, subjects FROM task").fetchall():
        candidate_id = ((json.loads(subjects) if subjects else {}).get("candidate") or {}).get("id")
        if candidate_id is not None:
            db.execute_sql(f"UPDATE task SET candidate_external_id = {p} WHERE id = {p}", (str(candidate_id), task_id))


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index("task", "task_account_id_status_candidate_external_id"),
        migrator.drop_column("task", "candidate_external_id"),
    )
