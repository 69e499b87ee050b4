"""Every stage move of an application, so late moves find the stage a candidate left and when."""

from peewee import *


def up(migrator, db):
    class Account(Model):
        class Meta:
            database = db
            table_name = "account"

    class Application(Model):
        class Meta:
            database = db
            table_name = "application"

    class Stage(Model):
        class Meta:
            database = db
            table_name = "stage"

    class ApplicationMove(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        application = ForeignKeyField(Application, on_delete="CASCADE")
        stage = ForeignKeyField(Stage, on_delete="CASCADE")
        occurred_at = DateTimeField()

        class Meta:
            database = db
            table_name = "application_move"
            indexes = ((("application", "occurred_at"), False),)

    db.create_tables([ApplicationMove])


def down(migrator, db):
    db.execute_sql("DROP TABLE application_move")
