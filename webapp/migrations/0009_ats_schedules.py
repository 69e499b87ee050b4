"""Schedules made in the ATS (Greenhouse, Ashby) are mirrored like Docket's own: a schedule says
which system made it (`source`, empty for Docket's), and each of its interviews keeps the ATS's id
for it (`external_id`), so that a later listing or webhook finds the interview it names."""

from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("schedule", "source", CharField(null=True)),
        migrator.add_column("scheduled_interview", "external_id", CharField(null=True)),
        migrator.add_index("scheduled_interview", ("account_id", "external_id"), False),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index("scheduled_interview", "scheduled_interview_account_id_external_id"),
        migrator.drop_column("scheduled_interview", "external_id"),
        migrator.drop_column("schedule", "source"),
    )
