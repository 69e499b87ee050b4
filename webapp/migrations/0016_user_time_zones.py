"""Each person's time zone (an IANA name such as America/New_York): every time Docket shows them
and every time they enter is in it. Empty until they sign in from a browser that says its zone or
choose one on /account/profile; until then the app's default (DEFAULT_TIME_ZONE) is used."""

from peewee import *


def up(migrator, db):
    migrator.migrate(migrator.add_column("user", "time_zone", CharField(default="")))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("user", "time_zone"))
