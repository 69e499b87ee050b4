"""The first schema: accounts, people, the ATS mirror, schedules, the inbox, tasks.

Frozen copies of the models as they were; Python-side defaults do not matter to DDL.
"""

from peewee import *


def up(migrator, db):
    class Account(Model):
        name = CharField(unique=True)
        webhook_key = CharField(unique=True)
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "account"

    db.create_tables([Account])

    class User(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        email = CharField()
        name = CharField(default="")
        password_hash = CharField(null=True)
        is_admin = BooleanField(default=False)
        created_at = DateTimeField()
        last_login_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "user"
            indexes = ((("account", "email"), True),)

    db.create_tables([User])

    class AccountCreator(Model):
        account = ForeignKeyField(Account, unique=True, on_delete="CASCADE")
        user = ForeignKeyField(User, on_delete="CASCADE")
        at = DateTimeField()

        class Meta:
            database = db
            table_name = "account_creator"

    db.create_tables([AccountCreator])

    class ApiToken(Model):
        user = ForeignKeyField(User, on_delete="CASCADE")
        token_hash = CharField(unique=True)
        created_at = DateTimeField()
        last_used_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "api_token"

    db.create_tables([ApiToken])

    class Candidate(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        external_id = CharField()
        name = CharField(default="")
        email = CharField(null=True)
        coordinator = ForeignKeyField(User, null=True, on_delete="SET NULL")
        url = CharField(null=True)
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "candidate"
            indexes = ((("account", "external_id"), True),)

    db.create_tables([Candidate])

    class Job(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        external_id = CharField()
        name = CharField(default="")
        status = CharField(default="open")
        coordinator = ForeignKeyField(User, null=True, on_delete="SET NULL")
        scheduling_enabled = BooleanField(default=False)
        configured = BooleanField(default=False)
        url = CharField(null=True)
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "job"
            indexes = ((("account", "external_id"), True),)

    db.create_tables([Job])

    class Stage(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        job = ForeignKeyField(Job, null=True, on_delete="CASCADE")
        external_id = CharField()
        name = CharField(default="")
        position = IntegerField(default=0)
        scheduling_enabled = BooleanField(default=False)
        configured = BooleanField(default=False)
        deleted = BooleanField(default=False)
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "stage"
            indexes = ((("account", "external_id"), True),)

    db.create_tables([Stage])

    class Application(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        external_id = CharField()
        candidate = ForeignKeyField(Candidate, null=True, on_delete="CASCADE")
        job = ForeignKeyField(Job, null=True, on_delete="SET NULL")
        stage = ForeignKeyField(Stage, null=True, on_delete="SET NULL")
        stage_changed_at = DateTimeField(null=True)
        status = CharField(default="active")
        url = CharField(null=True)
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "application"
            indexes = ((("account", "external_id"), True),)

    db.create_tables([Application])

    class Schedule(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        external_id = CharField()
        application = ForeignKeyField(Application, null=True, on_delete="SET NULL")
        stage = ForeignKeyField(Stage, null=True, on_delete="SET NULL")
        status = CharField(default="scheduled")
        organizer = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
        created_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "schedule"
            indexes = ((("account", "external_id"), True),)

    db.create_tables([Schedule])

    class Interview(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        stage = ForeignKeyField(Stage, null=True, on_delete="CASCADE")
        external_id = CharField()
        name = CharField(default="")
        duration_minutes = IntegerField(null=True)
        has_template = BooleanField(default=False)
        deleted = BooleanField(default=False)
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "interview"
            indexes = ((("account", "external_id"), True),)

    db.create_tables([Interview])

    class ScheduledInterview(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        schedule = ForeignKeyField(Schedule, on_delete="CASCADE")
        interview = ForeignKeyField(Interview, null=True, on_delete="SET NULL")
        name = CharField(default="")
        starts_at = DateTimeField()
        ends_at = DateTimeField()
        room_name = CharField(null=True)
        room_email = CharField(null=True)
        calendar_event_id = CharField(null=True)

        class Meta:
            database = db
            table_name = "scheduled_interview"

    db.create_tables([ScheduledInterview])

    class Attendee(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        scheduled_interview = ForeignKeyField(ScheduledInterview, on_delete="CASCADE")
        email = CharField()
        name = CharField(default="")
        kind = CharField()
        response = CharField(default="needs_action")

        class Meta:
            database = db
            table_name = "attendee"

    db.create_tables([Attendee])

    class Event(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        source = CharField()
        external_id = CharField()
        type = CharField(default="")
        payload = TextField()
        occurred_at = DateTimeField(null=True)
        received_at = DateTimeField()
        status = CharField(default="pending")
        attempts = IntegerField(default=0)
        last_error = TextField(null=True)
        next_attempt_at = DateTimeField(null=True)
        processed_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "event"
            indexes = ((("account", "source", "external_id"), True), (("status", "next_attempt_at"), False))

    db.create_tables([Event])

    class Resolution(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        rule_id = CharField()
        key = TextField()
        key_head = CharField(null=True)
        occurred_at = DateTimeField()
        event = ForeignKeyField(Event, null=True, on_delete="SET NULL")

        class Meta:
            database = db
            table_name = "resolution"
            indexes = ((("account", "rule_id", "key_head"), False),)

    db.create_tables([Resolution])

    class Task(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        rule_id = CharField()
        category = CharField()
        key = TextField()
        key_head = CharField(null=True)
        title = TextField()
        recommended_action = TextField()
        description = TextField(default="")
        assignee = ForeignKeyField(User, null=True, on_delete="SET NULL")
        priority = CharField(default="normal")
        priority_rank = IntegerField(default=2)
        status = CharField(default="open")
        subjects = TextField(default=dict)
        created_at = DateTimeField()
        last_triggered_at = DateTimeField()
        raised_by_event = ForeignKeyField(Event, null=True, on_delete="SET NULL")
        completed_at = DateTimeField(null=True)
        completed_by_user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        completed_by_event = ForeignKeyField(Event, null=True, on_delete="SET NULL")
        completed_on_behalf_of = ForeignKeyField(User, null=True, on_delete="SET NULL")
        completion_reason = TextField(null=True)

        class Meta:
            database = db
            table_name = "task"
            indexes = (
                (("account", "assignee", "status", "priority_rank", "created_at"), False),
                (("account", "rule_id", "status", "key_head"), False),
                (("account", "status", "category"), False),
            )

    db.create_tables([Task])

    class TaskHistory(Model):
        account = ForeignKeyField(Account, on_delete="CASCADE")
        task = ForeignKeyField(Task, on_delete="CASCADE")
        at = DateTimeField()
        kind = CharField()
        user = ForeignKeyField(User, null=True, on_delete="SET NULL")
        event = ForeignKeyField(Event, null=True, on_delete="SET NULL")
        note = TextField(default="")

        class Meta:
            database = db
            table_name = "task_history"

    db.create_tables([TaskHistory])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("task_history"))
    migrator.migrate(migrator.drop_table("task"))
    migrator.migrate(migrator.drop_table("resolution"))
    migrator.migrate(migrator.drop_table("event"))
    migrator.migrate(migrator.drop_table("attendee"))
    migrator.migrate(migrator.drop_table("scheduled_interview"))
    migrator.migrate(migrator.drop_table("interview"))
    migrator.migrate(migrator.drop_table("schedule"))
    migrator.migrate(migrator.drop_table("application"))
    migrator.migrate(migrator.drop_table("stage"))
    migrator.migrate(migrator.drop_table("job"))
    migrator.migrate(migrator.drop_table("candidate"))
    migrator.migrate(migrator.drop_table("api_token"))
    migrator.migrate(migrator.drop_table("account_creator"))
    migrator.migrate(migrator.drop_table("user"))
    migrator.migrate(migrator.drop_table("account"))
