"""Connected ATSes: secrets, health and sync state per account and provider.

A frozen copy of the model as it was; Python-side defaults do not matter to DDL.
"""

from peewee import *


def up(migrator, db):
    class Account(Model):
        class Meta:
            database = db
            table_name = "account"

    class Integration(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        provider = CharField()
        webhook_secret = TextField(null=True)
        api_key = TextField(null=True)
        status = CharField(default="ok")
        last_error = TextField(null=True)
        state = TextField(default="{}")
        connected_at = DateTimeField()
        last_synced_at = DateTimeField(null=True)
        next_sync_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "integration"
            indexes = ((("account", "provider"), True),)

    db.create_tables([Integration])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("integration"))
