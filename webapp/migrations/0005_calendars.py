"""Calendars as integrations: the integration's kind, credentials and owner, and the watches
(Google channels, Microsoft Graph subscriptions) Docket keeps on organizers' calendars."""

from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("integration", "kind", CharField(default="ats")),
        migrator.add_column("integration", "credentials", TextField(null=True)),
        migrator.add_column("integration", "owner_email", CharField(null=True)),
    )

    class Account(Model):
        class Meta:
            database = db
            table_name = "account"

    class Integration(Model):
        class Meta:
            database = db
            table_name = "integration"

    class CalendarWatch(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        integration = ForeignKeyField(Integration, on_delete="CASCADE")
        calendar = CharField()
        channel_id = CharField(null=True)
        channel_token = CharField()
        resource_id = CharField(null=True)
        expires_at = DateTimeField(null=True)
        cursor = TextField(null=True)
        status = CharField(default="active")
        sync_requested_at = DateTimeField(null=True)
        last_synced_at = DateTimeField(null=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "calendar_watch"
            indexes = (
                (("integration", "calendar"), True),
                (("integration", "channel_id"), False),
            )

    db.create_tables([CalendarWatch])


def down(migrator, db):
    db.execute_sql("DROP TABLE calendar_watch")
    migrator.migrate(
        migrator.drop_column("integration", "kind"),
        migrator.drop_column("integration", "credentials"),
        migrator.drop_column("integration", "owner_email"),
    )
