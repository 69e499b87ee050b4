"""Notifications: each person's (and each account team's) choices per category and channel, with an
optional Slack incoming webhook, and the outbox of messages the worker sends (urgent tasks, digests)."""

from peewee import *


def up(migrator, db):
    class Account(Model):
        class Meta:
            database = db
            table_name = "account"

    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class Task(Model):
        class Meta:
            database = db
            table_name = "task"

    class NotificationSettings(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        user = ForeignKeyField(User, null=True, unique=True, on_delete="CASCADE")
        choices = TextField(default="{}")
        slack_webhook_url = TextField(null=True)
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "notification_settings"

    class Notification(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        user = ForeignKeyField(User, null=True, on_delete="CASCADE")
        task = ForeignKeyField(Task, null=True, on_delete="CASCADE")
        channel = CharField()
        kind = CharField()
        day = CharField(null=True)
        dedupe_key = CharField(unique=True)
        status = CharField(default="pending")
        attempts = IntegerField(default=0)
        last_error = TextField(null=True)
        next_attempt_at = DateTimeField()
        created_at = DateTimeField()
        sent_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "notification"
            indexes = ((("status", "next_attempt_at"), False), (("user", "kind", "day"), False))

    db.create_tables([NotificationSettings, Notification])
    # One team row per account (a unique user_id lets many NULLs in, on both databases).
    db.execute_sql(
        "CREATE UNIQUE INDEX notification_settings_team ON notification_settings (account_id) WHERE user_id IS NULL"
    )


def down(migrator, db):
    db.execute_sql("DROP TABLE notification")
    db.execute_sql("DROP TABLE notification_settings")
