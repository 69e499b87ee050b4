"""A candidate erased in the ATS (deleted, anonymised, merged away) is marked, so that a later
event about them does not bring their personal data back into the mirror."""

from peewee import *


def up(migrator, db):
    migrator.migrate(migrator.add_column("candidate", "erased_at", DateTimeField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("candidate", "erased_at"))
