"""Sessions that can be ended: each user's session token (every session and remember-me cookie
carries it; a new one ends them all), and when an admin disabled the user."""

import secrets

from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("user", "session_token", CharField(default="")),
        migrator.add_column("user", "disabled_at", DateTimeField(null=True)),
    )

    class User(Model):
        session_token = CharField()

        class Meta:
            database = db
            table_name = "user"

    # One token each: a shared one would let a session of one user pass for another's.
    for user in User.select(User.id):
        User.update(session_token=secrets.token_urlsafe(24)).where(User.id == user.id).execute()


def down(migrator, db):
    migrator.migrate(migrator.drop_column("user", "session_token"), migrator.drop_column("user", "disabled_at"))
