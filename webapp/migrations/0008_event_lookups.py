"""An inbox row keeps what its vendor's API said about the ids it carries (Lever's opportunity, its
owner and stage), looked up before the worker's transaction: `lookups`, JSON as text."""

from peewee import *


def up(migrator, db):
    migrator.migrate(migrator.add_column("event", "lookups", TextField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("event", "lookups"))
