"""An inbox row says what rules could not do with it (no key to open a task by, no assignee of
their own): status `incomplete` and the reasons in `note`."""

from peewee import *


def up(migrator, db):
    migrator.migrate(migrator.add_column("event", "note", TextField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("event", "note"))
