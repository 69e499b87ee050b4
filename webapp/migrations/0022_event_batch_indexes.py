"""Two inbox indexes for the worker's batches, the same on SQLite and PostgreSQL.

- `event_account_pending`: an account's pending rows in order. A batch reads its account's
  earliest due rows; through the account's index alone it walked past every row the account ever
  had processed first (a cost that grew with the inbox, batch after batch).
- `event_waiting_retry`: the rows waiting for a retry (`next_attempt_at` is set only then:
  processing clears it), by partition, so that such a row holds back the later rows of its
  partition until it is retried. A partial index: it holds the waiting rows alone.
"""

PENDING = "event_account_pending"
WAITING = "event_waiting_retry"


def up(migrator, db):
    db.execute_sql(f"CREATE INDEX IF NOT EXISTS {PENDING} ON event (account_id, status, id)")
    db.execute_sql(
        f"CREATE INDEX IF NOT EXISTS {WAITING} ON event (account_id, claim_key, id) WHERE next_attempt_at IS NOT NULL"
    )


def down(migrator, db):
    db.execute_sql(f"DROP INDEX IF EXISTS {WAITING}")
    db.execute_sql(f"DROP INDEX IF EXISTS {PENDING}")
