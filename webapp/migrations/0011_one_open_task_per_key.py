"""The database keeps one open task per (account, rule, key): a partial unique index, the same on
SQLite and PostgreSQL, so two workers that see the same trigger at once cannot both open a task
(the second one's insert fails and the pipeline dedupes into the first).

Open duplicates made before the index existed are completed first, each into the oldest open task
of its key, noted in its history.
"""

import datetime as dt

from peewee import *

INDEX = "task_one_open_per_key"


def up(migrator, db):
    duplicates = db.execute_sql(
        """
        SELECT t.id, t.account_id, keeper.id
        FROM task AS t
        JOIN (SELECT account_id, rule_id, key, MIN(id) AS id FROM task WHERE status = 'open'
              GROUP BY account_id, rule_id, key HAVING COUNT(*) > 1) AS keeper
          ON keeper.account_id = t.account_id AND keeper.rule_id = t.rule_id AND keeper.key = t.key
        WHERE t.status = 'open' AND t.id <> keeper.id
        """
    ).fetchall()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # stored naive UTC, as UTCDateTimeField does
    p = db.param
    for task_id, account_id, keeper_id in duplicates:
        db.execute_sql(f"UPDATE task SET status = 'completed', completed_at = {p} WHERE id = {p}", (now, task_id))
        db.execute_sql(
            f"INSERT INTO task_history (account_id, task_id, at, kind, note) VALUES ({p}, {p}, {p}, 'completed', {p})",
            (account_id, task_id, now, f"a duplicate of task {keeper_id}, open for the same key"),
        )
    db.execute_sql(
        f"CREATE UNIQUE INDEX IF NOT EXISTS {INDEX} ON task (account_id, rule_id, key) WHERE status = 'open'"
    )


def down(migrator, db):
    db.execute_sql(f"DROP INDEX IF EXISTS {INDEX}")
