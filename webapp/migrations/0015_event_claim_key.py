"""Each inbox row's partition within its account (`claim_key`: webapp/claims.py), indexed with the
account, so that workers on PostgreSQL claim partitions, not rows. Existing rows are keyed as the
inbox keys new ones, by the envelopes their payload stands for: a Docket envelope as it is, a
vendor's delivery as its adapter reads it (which is why this migration uses webapp.integrations)."""

import json

from peewee import *


def up(migrator, db):
    from webapp.integrations import claim_key

    migrator.migrate(
        migrator.add_column("event", "claim_key", CharField(default="")),
        migrator.add_index("event", ("account_id", "claim_key"), False),
    )
    p = db.param
    rows = db.execute_sql("SELECT id, source, external_id, payload FROM event").fetchall()
    for event_id, source, external_id, payload in rows:
        key = claim_key(source, external_id, json.loads(payload) if payload else None)
        if key:
            db.execute_sql(f"UPDATE event SET claim_key = {p} WHERE id = {p}", (key, event_id))


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index("event", "event_account_id_claim_key"), migrator.drop_column("event", "claim_key")
    )
