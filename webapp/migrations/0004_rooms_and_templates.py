"""Rooms, interview templates and job defaults: what Docket needs to schedule and set up jobs.

Frozen copies of the models as they were; Python-side defaults do not matter to DDL.
"""

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

    class Job(Model):
        class Meta:
            database = db
            table_name = "job"

    class Interview(Model):
        class Meta:
            database = db
            table_name = "interview"

    class Room(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        name = CharField()
        email = CharField()

        class Meta:
            database = db
            table_name = "room"
            indexes = ((("account", "email"), True),)

    class JobDefaults(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        job = ForeignKeyField(Job, unique=True, on_delete="CASCADE")
        duration_minutes = IntegerField(default=60)
        interviewer_ids = TextField(default="[]")
        updated_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "job_defaults"

    class InterviewTemplate(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        interview = ForeignKeyField(Interview, unique=True, on_delete="CASCADE")
        duration_minutes = IntegerField(default=60)
        interviewer_ids = TextField(default="[]")
        needs_room = BooleanField(default=False)
        room = ForeignKeyField(Room, null=True, on_delete="SET NULL")
        updated_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "interview_template"

    db.create_tables([Room, JobDefaults, InterviewTemplate])
    # Conflict checks look up who is booked by e-mail.
    db.execute_sql("CREATE INDEX IF NOT EXISTS attendee_account_email ON attendee (account_id, email)")


def down(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS attendee_account_email")
    db.execute_sql("DROP TABLE interview_template")
    db.execute_sql("DROP TABLE job_defaults")
    db.execute_sql("DROP TABLE room")
