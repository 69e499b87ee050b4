"""Per-account rulebooks: every saved version, with its rule tests, author, message and the
choice made for the open tasks of rules it removed."""

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

    class RulebookVersion(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        number = IntegerField()
        text = TextField()
        tests = TextField(default="")
        author = ForeignKeyField(User, null=True, on_delete="SET NULL")
        message = TextField(default="")
        restored_from = IntegerField(null=True)
        removed_rules = TextField(default="{}")
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "rulebook_version"
            indexes = ((("account", "number"), True),)

    db.create_tables([RulebookVersion])


def down(migrator, db):
    db.execute_sql("DROP TABLE rulebook_version")
