"""Docket's records: accounts and people, the ATS mirror, schedules, the event inbox and tasks.

Every record belongs to an account, and every query helper here takes one.
Times are aware UTC datetimes in Python, stored as naive UTC.
"""

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets

from flask_login import UserMixin
from peewee import (
    JOIN,
    SQL,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    IntegrityError,
    Model,
    NodeList,
    TextField,
    Tuple,
    prefetch,
)
from werkzeug.security import check_password_hash, generate_password_hash

from .db import database, is_postgres, prebuilt_sql

PRIORITIES = ("urgent", "high", "normal", "low")

# Whose tasks a listing shows besides one person's: nobody's (unassigned), or everyone's (None).
UNASSIGNED = "unassigned"


def utcnow():
    """Now, in UTC."""
    return dt.datetime.now(dt.UTC)


def to_utc(value):
    """A datetime (naive ones are taken as UTC) or an ISO-8601 string, as an aware UTC datetime."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


class UTCDateTimeField(DateTimeField):
    """Aware UTC datetimes, stored naive so that SQLite and PostgreSQL compare them alike."""

    def db_value(self, value):
        if isinstance(value, dt.datetime):
            value = to_utc(value).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):
        value = super().python_value(value)
        return to_utc(value) if isinstance(value, dt.datetime) else value


class DueField(UTCDateTimeField):
    """A due time, or None for none: stored as a far-future time (NO_DUE), so that tasks without
    one sort last on SQLite and PostgreSQL alike and a listing's cursor compares plain values."""

    NO_DUE = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)

    def db_value(self, value):
        return super().db_value(self.NO_DUE if value is None else value)

    def python_value(self, value):
        value = super().python_value(value)
        return None if value == self.NO_DUE else value


class JSONField(TextField):
    """JSON kept as text, so SQLite and PostgreSQL store it alike."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, sort_keys=True, default=str)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(Model):
    """Every Docket model."""

    class Meta:
        database = database
        legacy_table_names = False

    @classmethod
    def by_external_id(cls, account_id, external_id):
        """The account's mirror row with this external id, or None: the worker asks this for
        nearly every record of every event, so the statement is built once."""
        sql = prebuilt_sql(
            ("by_external_id", cls), lambda: cls.select().where((cls.account == 0) & (cls.external_id == ""))
        )
        return next(iter(raw_rows(cls, sql, account_id, str(external_id))), None)


def one_of(field):
    """`field IN (the values of one parameter)`: a list on PostgreSQL (= ANY), a JSON array on
    SQLite (json_each), so that a statement reading many rows by id has one text whatever their
    number, built once (see rows_in), where `in_()` builds a node and a parameter per value."""
    return NodeList((field, SQL("= ANY(%s)" if is_postgres() else "IN (SELECT value FROM json_each(?))")))


def values_of(values):
    """The parameter one_of() takes for these values."""
    values = sorted(values)
    return values if is_postgres() else json.dumps(values)


def rows_in(query_key, build, *params, model=None):
    """The rows of a prebuilt query (its text built once per key, see db.prebuilt_sql) whose
    placeholders take params in order; a one_of() placeholder takes values_of(...). Given a model,
    a list of its instances (raw_rows); else the cursor's tuples."""
    sql = prebuilt_sql(query_key, build)
    return raw_rows(model, sql, *params) if model is not None else database.execute_sql(sql, params)


def raw_rows(model, sql, *params):
    """`list(model.raw(sql, *params))` for a statement selecting the model's own columns, built
    faster: each instance gets its stored values at once, where peewee's raw query sets them one by
    one through the fields' descriptors (a third of the cost of reading a mirror row in the worker)."""
    cursor = database.execute_sql(sql, params)
    by_column, by_name = model._meta.columns, model._meta.fields
    fields = [by_column[d[0]] if d[0] in by_column else by_name.get(d[0]) for d in cursor.description]
    if any(field is None for field in fields):  # a column that is no field of the model: peewee's way, which keeps it
        return list(model.raw(sql, *params))
    names = [f.name for f in fields]
    converters = [f.python_value for f in fields]
    new = model.__new__
    rows = []
    for values in cursor:
        row = new(model)
        row.__data__ = {name: convert(v) for name, convert, v in zip(names, converters, values, strict=True)}
        row._dirty = set()
        row.__rel__ = {}
        rows.append(row)
    return rows


def insert_row(model, unique=None, **values):
    """`model.create(**values)` through a statement whose text is built once per model and set of
    columns (see db.prebuilt_sql), for the worker's hot inserts: peewee spends longer writing an
    INSERT's text than SQLite spends running it. Rows the values refer to must be saved already.

    unique: the names of a unique index's columns; a row that index already has is then left
    alone (INSERT ... ON CONFLICT DO NOTHING, SQLite and PostgreSQL alike) and None returned, so
    two workers inserting the same row never raise IntegrityError."""
    row = model(**values)
    data = row.__data__
    pk = model._meta.primary_key
    fields = [f for f in model._meta.sorted_fields if f.name in data and not (f is pk and data[f.name] is None)]

    def build():
        # The columns in the order given: the order of the values below.
        query = model.insert_many([[None] * len(fields)], fields=fields)
        if unique:
            query = query.on_conflict(conflict_target=[model._meta.fields[n] for n in unique], action="NOTHING")
        # peewee adds PostgreSQL's RETURNING only when it runs an insert itself.
        return query.returning(pk) if is_postgres() else query

    key = ("insert", model, tuple(f.name for f in fields), tuple(unique or ()))
    cursor = database.execute_sql(prebuilt_sql(key, build), [f.db_value(data[f.name]) for f in fields])
    if is_postgres():
        inserted = cursor.fetchone()
        if inserted is None:
            return None
        new_id = inserted[0]
    else:
        if cursor.rowcount == 0:
            return None
        new_id = cursor.lastrowid
    if data.get(pk.name) is None:
        setattr(row, pk.name, new_id)
    return row


def update_row(row, *fields):
    """`row.save(only=fields)` (every column, when no field is named) through a statement built once
    per model and set of columns, as insert_row's; returns how many rows it changed."""
    model = type(row)
    pk = model._meta.primary_key
    data = row.__data__
    named = {f.name for f in fields}
    columns = [
        f for f in model._meta.sorted_fields if f is not pk and f.name in data and (not named or f.name in named)
    ]
    # peewee writes an UPDATE's columns in the model's field order, the order of the values below.
    sql = prebuilt_sql(
        ("update", model, tuple(f.name for f in columns)),
        lambda: model.update({f: None for f in columns}).where(pk == 0),
    )
    cursor = database.execute_sql(sql, [f.db_value(data[f.name]) for f in columns] + [pk.db_value(row.get_id())])
    return cursor.rowcount


INSERT_ROWS_CHUNK = 100  # rows per multi-row INSERT: 100 × a few columns stays far below SQLite's 32,766 values


def insert_rows(model, rows):
    """Insert many rows (dicts of values, as insert_row takes) in multi-row INSERTs whose text is
    built once per model, columns and number of rows, as insert_row's. The rows' ids are not read
    back: only for rows that nothing written after them refers to."""
    pk = model._meta.primary_key
    by_columns = {}
    for values in rows:
        data = model(**values).__data__  # with the fields' defaults, as create() would write them
        fields = tuple(f for f in model._meta.sorted_fields if f.name in data and f is not pk)
        by_columns.setdefault(fields, []).append([f.db_value(data[f.name]) for f in fields])
    for fields, values in by_columns.items():
        for start in range(0, len(values), INSERT_ROWS_CHUNK):
            chunk = values[start : start + INSERT_ROWS_CHUNK]
            sql = prebuilt_sql(
                ("insert rows", model, tuple(f.name for f in fields), len(chunk)),
                lambda n=len(chunk), fields=fields: model.insert_many([[None] * len(fields)] * n, fields=fields),
            )
            database.execute_sql(sql, [value for row in chunk for value in row])


def _from_columns(model, values):
    """A model instance from a row's next columns, one per field in the model's order (as
    `select(model)` lists them)."""
    instance = model(**{f.name: f.python_value(next(values)) for f in model._meta.sorted_fields})
    instance._dirty.clear()
    return instance


class Account(BaseModel):
    """A customer company: its people, its mirror of the ATS, its tasks."""

    name = CharField(unique=True)
    webhook_key = CharField(unique=True, default=lambda: secrets.token_urlsafe(24))
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "account"


def new_session_token():
    return secrets.token_urlsafe(24)


class User(UserMixin, BaseModel):
    """A person of an account: a coordinator, an admin, or someone the ATS named.

    Every session and remember-me cookie of the user carries their `session_token`
    (flask-login's "alternative tokens": see get_id); a new token ends them all.
    """

    account = ForeignKeyField(Account, backref="users", on_delete="CASCADE")
    email = CharField()
    name = CharField(default="")
    password_hash = CharField(null=True)
    is_admin = BooleanField(default=False)
    created_at = UTCDateTimeField(default=utcnow)
    last_login_at = UTCDateTimeField(null=True)
    session_token = CharField(default=new_session_token)
    disabled_at = UTCDateTimeField(null=True)
    # An IANA name (America/New_York); empty: not known yet, the app's default is used (timezones.py).
    time_zone = CharField(default="")

    class Meta:
        indexes = ((("account", "email"), True),)

    # When the sign-in a loaded session carries was made (auth.py sets it); None before one is made.
    signed_in_at = None

    @property
    def is_active(self):
        """A disabled user cannot sign in (flask-login's login_user refuses them) nor stay signed in."""
        return self.disabled_at is None

    def get_id(self):
        """What the session and the remember-me cookie name the user by: id, session token and
        when this sign-in was made (so even a copied cookie stops working once it is too old)."""
        signed_in_at = self.signed_in_at or int(utcnow().timestamp())
        return f"{self.id}:{self.session_token}:{signed_in_at}"

    def end_sessions(self):
        """Sign the user out everywhere: every session and remember-me cookie has the old token."""
        self.session_token = new_session_token()
        User.update(session_token=self.session_token).where(User.id == self.id).execute()

    def set_password(self, password):
        """A new password; saved, it also ends every session signed in with the old one."""
        self.password_hash = generate_password_hash(password)
        self.session_token = new_session_token()

    def disable(self):
        """Turn the user's sign-in off (their tasks stay) and end every session of theirs."""
        self.disabled_at = utcnow()
        self.session_token = new_session_token()
        self.save(only=[User.disabled_at, User.session_token])

    def enable(self):
        self.disabled_at = None
        self.save(only=[User.disabled_at])

    def check_password(self, password):
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def display_name(self):
        return self.name or self.email

    def as_person(self):
        return {"email": self.email, "name": self.name}

    def record_login(self):
        """Note the login; the first person ever to log in to the account becomes its creator."""
        from peewee import IntegrityError

        self.last_login_at = utcnow()
        # Only this column: a whole-row save could put back a session token ended a moment ago.
        User.update(last_login_at=self.last_login_at).where(User.id == self.id).execute()
        if AccountCreator.get_or_none(AccountCreator.account == self.account_id) is None:
            try:
                with database.atomic():
                    AccountCreator.create(account=self.account_id, user=self)
                    Task.give_unassigned_to(self, f"{self.display_name} is the account's creator now")
            except IntegrityError:
                pass  # someone else logged in first, a moment ago

    @classmethod
    def for_email(cls, account, email, name=None):
        """The account's user with this e-mail, created (never logged in) when the ATS names a new one."""
        email = email.strip().lower()
        user = cls.get_or_none(cls.account == account, cls.email == email)
        if user is None:
            return cls.add_for_email(account, email, name)
        if name and not user.name:
            user.name = name
            user.save(only=[cls.name])
        return user

    @classmethod
    def add_for_email(cls, account, email, name=None):
        """for_email for an e-mail the account had no user for a moment ago: inserted unless another
        worker has just done it (INSERT ... ON CONFLICT DO NOTHING), then that one is read back."""
        email = email.strip().lower()
        user = insert_row(cls, unique=("account", "email"), account=account, email=email, name=name or "")
        if user is not None:
            return user
        user = cls.get(cls.account == account, cls.email == email)
        if name and not user.name:
            user.name = name
            user.save(only=[cls.name])
        return user

    @classmethod
    def signed_in(cls, user_id):
        """The user a session names, with what every page needs of their account in the same
        query: the newest rulebook version (None: the default) and how many integrations are broken."""
        from peewee import fn

        latest = RulebookVersion.select(fn.MAX(RulebookVersion.id)).where(RulebookVersion.account == cls.account)
        failing = Integration.select(fn.COUNT(Integration.id)).where(
            Integration.account == cls.account, Integration.status == Integration.FAILING
        )
        return (
            cls.select(cls, latest.alias("rulebook_version_id"), failing.alias("failing_integrations"))
            .where(cls.id == user_id)
            .first()
        )

    @classmethod
    def coordinators_of(cls, account):
        """The account's people, who can have tasks and cover for each other, by name."""
        return list(cls.select().where(cls.account == account).order_by(cls.name, cls.email))


class AccountCreator(BaseModel):
    """Who first logged in to an account: the unique account makes the first login win a race."""

    account = ForeignKeyField(Account, unique=True, on_delete="CASCADE")
    user = ForeignKeyField(User, on_delete="CASCADE")
    at = UTCDateTimeField(default=utcnow)


class Absence(BaseModel):
    """A person away (out of office) from starts_at until ends_at (UTC; the end excluded), and who
    covers for them meanwhile: the rulebook's resolvers pick `backup` instead of them (see
    webapp/absences.py). `hand_over`: their open tasks go to the backup when the absence starts;
    `handed_over_at` and `returned_at` record that the start's hand-over and the return's hand-back
    were done (each exactly once)."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    user = ForeignKeyField(User, backref="absences", on_delete="CASCADE")
    starts_at = UTCDateTimeField()
    ends_at = UTCDateTimeField()
    backup = ForeignKeyField(User, null=True, on_delete="SET NULL")
    hand_over = BooleanField(default=True)
    set_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)
    handed_over_at = UTCDateTimeField(null=True)
    returned_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = (
            (("account", "user", "ends_at"), False),
            (("returned_at", "ends_at"), False),
        )

    @classmethod
    def of_account(cls, account, absence_id):
        """The account's absence with this id, or None (another account's is not found)."""
        return cls.get_or_none(cls.account == account, cls.id == absence_id)

    @classmethod
    def of_person(cls, user, since):
        """A person's absences that end after `since` (those not over, with the recently ended), soonest first."""
        return list(
            cls.select(cls, User)
            .join(User, JOIN.LEFT_OUTER, on=(cls.backup == User.id), attr="backup")
            .where(cls.account == user.account_id, cls.user == user, cls.ends_at > since)
            .order_by(cls.starts_at, cls.id)
        )

    @classmethod
    def away_now(cls, account, now):
        """{user id: absence} of the account's people away at `now`."""
        query = cls.select().where(cls.account == account, cls.starts_at <= now, cls.ends_at > now)
        return {absence.user_id: absence for absence in query}

    @classmethod
    def overlapping(cls, user, starts_at, ends_at, exclude=None):
        """The person's first absence that overlaps [starts_at, ends_at), or None."""
        query = cls.select().where(
            cls.account == user.account_id, cls.user == user, cls.starts_at < ends_at, cls.ends_at > starts_at
        )
        if exclude is not None:
            query = query.where(cls.id != exclude.id)
        return query.order_by(cls.starts_at).first()

    @classmethod
    def routing(cls, account_ids):
        """The absences that still route tasks (not yet handed back), of some accounts, with the
        absent person and the backup: [(account id, starts_at, ends_at, the person's e-mail,
        backup {email, name} or None)]; one query."""
        if not account_ids:
            return []
        Person, Backup = User.alias("person"), User.alias("backup")
        query = (
            cls.select(cls.account, cls.starts_at, cls.ends_at, Person.email, Backup.email, Backup.name)
            .join_from(cls, Person, on=(cls.user == Person.id))
            .join_from(cls, Backup, JOIN.LEFT_OUTER, on=(cls.backup == Backup.id))
            .where(cls.account.in_(sorted(account_ids)), cls.returned_at.is_null())
            .tuples()
        )
        return [
            (account_id, to_utc(s), to_utc(e), email, {"email": b, "name": n} if b else None)
            for account_id, s, e, email, b, n in query
        ]

    @classmethod
    def starting(cls, now):
        """Absences begun by `now`, not over, whose hand-over at the start is due."""
        return list(
            cls.select().where(
                cls.hand_over == True,  # noqa: E712 (peewee's comparison)
                cls.handed_over_at.is_null(),
                cls.starts_at <= now,
                cls.ends_at > now,
                cls.returned_at.is_null(),
            )
        )

    @classmethod
    def ended(cls, now):
        """Absences over by `now` whose hand-back is due."""
        return list(cls.select().where(cls.returned_at.is_null(), cls.ends_at <= now))

    def claim(self, field, now):
        """Mark the hand-over (handed_over_at) or hand-back (returned_at) done, if nobody has:
        True for the one caller that did, so that each happens exactly once."""
        claimed = type(self).update({field: now}).where(type(self).id == self.id, field.is_null()).execute()
        if claimed:
            setattr(self, field.name, now)
        return bool(claimed)


def account_creator(account):
    """The account's creator, or None while nobody has logged in."""
    row = AccountCreator.select(AccountCreator, User).join(User).where(AccountCreator.account == account).first()
    return row.user if row else None


class ApiToken(BaseModel):
    """A Bearer token for the JSON API; only its SHA-256 is stored."""

    user = ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    token_hash = CharField(unique=True)
    created_at = UTCDateTimeField(default=utcnow)
    last_used_at = UTCDateTimeField(null=True)

    @staticmethod
    def hash(token):
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user):
        """A new token for the user; the plain value is returned once and never stored."""
        token = "dkt_" + secrets.token_urlsafe(32)
        cls.create(user=user, token_hash=cls.hash(token))
        return token

    @classmethod
    def find(cls, token):
        """The token row, with its user and the user's account, for a plain token, or None.

        Every API call asks this: one query, its statement built once.
        """
        sql = prebuilt_sql(
            "api_token_find",
            lambda: cls.select(cls, User, Account).join(User).join(Account).where(cls.token_hash == ""),
        )
        row = database.execute_sql(sql, (cls.hash(token),)).fetchone()
        if row is None:
            return None
        values = iter(row)
        token_row, user, account = (_from_columns(model, values) for model in (cls, User, Account))
        user.account = account
        token_row.user = user
        return token_row

    @classmethod
    def user_for(cls, token):
        row = cls.find(token)
        return row.user if row else None


class Job(BaseModel):
    """A job as the ATS knows it, with Docket's own set-up."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    external_id = CharField()
    name = CharField(default="")
    status = CharField(default="open")
    coordinator = ForeignKeyField(User, null=True, on_delete="SET NULL")
    scheduling_enabled = BooleanField(default=False)
    configured = BooleanField(default=False)
    url = CharField(null=True)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "external_id"), True),)


class Stage(BaseModel):
    """A stage of a job's interview plan."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    job = ForeignKeyField(Job, null=True, backref="stages", on_delete="CASCADE")
    external_id = CharField()
    name = CharField(default="")
    position = IntegerField(default=0)
    scheduling_enabled = BooleanField(default=False)
    configured = BooleanField(default=False)
    deleted = BooleanField(default=False)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "external_id"), True),)

    @classmethod
    def live_of_job(cls, job):
        """A job's stages that are not deleted, in the interview plan's order."""
        return list(cls.select().where(cls.job == job, ~cls.deleted).order_by(cls.position, cls.id))


class Interview(BaseModel):
    """An interview of a stage (the ATS's), with Docket's template for it."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    stage = ForeignKeyField(Stage, null=True, backref="interviews", on_delete="CASCADE")
    external_id = CharField()
    name = CharField(default="")
    duration_minutes = IntegerField(null=True)
    has_template = BooleanField(default=False)
    deleted = BooleanField(default=False)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "external_id"), True),)

    @classmethod
    def live_of_stage(cls, stage):
        """A stage's interviews that are not deleted."""
        return list(cls.select().where(cls.stage == stage, ~cls.deleted).order_by(cls.id))


class Candidate(BaseModel):
    """A candidate, with the coordinator the ATS names for them.

    An erased candidate (deleted, anonymised or merged away in the ATS) keeps its row and ids, so
    that later events about it stay consistent, but none of its personal data: see webapp/erasure.py.
    """

    account = ForeignKeyField(Account, on_delete="CASCADE")
    external_id = CharField()
    name = CharField(default="")
    email = CharField(null=True)
    coordinator = ForeignKeyField(User, null=True, on_delete="SET NULL")
    url = CharField(null=True)
    updated_at = UTCDateTimeField(default=utcnow)
    erased_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("account", "external_id"), True),)


class Application(BaseModel):
    """A candidate's application to a job, and the stage it is in."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    external_id = CharField()
    candidate = ForeignKeyField(Candidate, null=True, backref="applications", on_delete="CASCADE")
    job = ForeignKeyField(Job, null=True, on_delete="SET NULL")
    stage = ForeignKeyField(Stage, null=True, on_delete="SET NULL")
    # When the ATS moved it into that stage; an older event never moves it back.
    stage_changed_at = UTCDateTimeField(null=True)
    status = CharField(default="active")
    url = CharField(null=True)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "external_id"), True),)


class ApplicationMove(BaseModel):
    """A move of an application into a stage, as the ATS reported it; the order of moves
    in time, not of their arrival, says which stage a candidate left and when."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    application = ForeignKeyField(Application, backref="moves", on_delete="CASCADE")
    stage = ForeignKeyField(Stage, on_delete="CASCADE")
    occurred_at = UTCDateTimeField()

    class Meta:
        indexes = ((("application", "occurred_at"), False),)

    @classmethod
    def record(cls, account, application, stage, occurred_at):
        """Note a move once: a redelivered or replayed event finds it already noted."""
        sql = prebuilt_sql(
            "move_seen",
            lambda: cls.select(cls.id).where((cls.application == 0) & (cls.stage == 0) & (cls.occurred_at == utcnow())),
        )
        params = (application.id, stage.id, cls.occurred_at.db_value(occurred_at))
        if database.execute_sql(sql, params).fetchone() is None:
            insert_row(cls, account=account, application=application, stage=stage, occurred_at=occurred_at)

    @classmethod
    def before(cls, application, moment):
        """The latest move strictly before a moment, or None (built once, as after's)."""
        sql = prebuilt_sql(
            "move_before",
            lambda: (
                cls.select()
                .where((cls.application == 0) & (cls.occurred_at < utcnow()))
                .order_by(cls.occurred_at.desc())
                .limit(1)
            ),
        )
        application_id = getattr(application, "id", application)
        return next(iter(raw_rows(cls, sql, application_id, cls.occurred_at.db_value(moment), 1)), None)

    @classmethod
    def after(cls, application, moment):
        """The earliest move strictly after a moment, or None (asked for every move: built once)."""
        sql = prebuilt_sql(
            "move_after",
            lambda: cls.select().where((cls.application == 0) & (cls.occurred_at > utcnow())).order_by(cls.occurred_at),
        )
        application_id = getattr(application, "id", application)
        return next(iter(raw_rows(cls, sql, application_id, cls.occurred_at.db_value(moment))), None)


class Schedule(BaseModel):
    """Interviews booked for an application's stage, made in Docket or in the ATS (`source`)."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    external_id = CharField()
    source = CharField(null=True)  # the ATS that made it (greenhouse, ashby); None: made in Docket
    application = ForeignKeyField(Application, null=True, on_delete="SET NULL")
    stage = ForeignKeyField(Stage, null=True, on_delete="SET NULL")
    status = CharField(default="scheduled")
    organizer = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "external_id"), True),)

    @classmethod
    def of_account(cls, account, external_id):
        """The account's schedule with this (Docket) id, or None."""
        return cls.get_or_none(cls.account == account, cls.external_id == str(external_id))

    @classmethod
    def of_candidate(cls, account, candidate):
        """The candidate's schedules (any of their applications), newest first, each with its
        interviews (in time order) and their attendees read in: three queries."""
        schedules = list(
            cls.select(cls, Stage)
            .join(Application, on=(cls.application == Application.id))
            .join_from(cls, Stage, JOIN.LEFT_OUTER, on=(cls.stage == Stage.id), attr="stage")
            .where(cls.account == account, Application.candidate == candidate)
            .order_by(cls.created_at.desc(), cls.id.desc())
        )
        interviews = (
            ScheduledInterview.select()
            .where(ScheduledInterview.schedule.in_([s.id for s in schedules]))
            .order_by(ScheduledInterview.starts_at, ScheduledInterview.id)
        )
        attendees = Attendee.select().order_by(Attendee.kind, Attendee.name, Attendee.email)
        by_schedule = {s.id: [] for s in schedules}
        for interview in prefetch(interviews, attendees) if schedules else []:
            by_schedule[interview.schedule_id].append(interview)
        for schedule in schedules:
            schedule.interview_list = by_schedule[schedule.id]
        return schedules


class ScheduledInterview(BaseModel):
    """One interview of a schedule: its time, room and calendar event."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    schedule = ForeignKeyField(Schedule, backref="interviews", on_delete="CASCADE")
    interview = ForeignKeyField(Interview, null=True, on_delete="SET NULL")
    name = CharField(default="")
    starts_at = UTCDateTimeField()
    ends_at = UTCDateTimeField()
    room_name = CharField(null=True)
    room_email = CharField(null=True)
    calendar_event_id = CharField(null=True)
    external_id = CharField(null=True)  # the ATS's id of this interview, for a schedule made in the ATS

    class Meta:
        indexes = ((("account", "external_id"), False),)

    @classmethod
    def bookings(cls, account, emails, starts_at, ends_at, exclude_schedule=None):
        """Interviewers and rooms among `emails` already booked between two times in the account's
        live schedules: a list of (attendee, scheduled interview, schedule) overlapping the slot."""
        if not emails:
            return []
        query = (
            Attendee.select(Attendee, cls, Schedule)
            .join(cls, on=(Attendee.scheduled_interview == cls.id))
            .join(Schedule, on=(cls.schedule == Schedule.id))
            .where(
                Attendee.account == account,
                Attendee.email.in_(sorted(emails)),
                Attendee.kind.in_(["interviewer", "room"]),
                Schedule.status != "cancelled",
                cls.starts_at < ends_at,
                cls.ends_at > starts_at,
            )
            .order_by(cls.starts_at, Attendee.id)
        )
        if exclude_schedule is not None:
            query = query.where(Schedule.id != exclude_schedule)
        return [(a, a.scheduled_interview, a.scheduled_interview.schedule) for a in query]


class Attendee(BaseModel):
    """Someone invited to a scheduled interview, and their latest answer."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    scheduled_interview = ForeignKeyField(ScheduledInterview, backref="attendees", on_delete="CASCADE")
    email = CharField()
    name = CharField(default="")
    kind = CharField()  # interviewer, room or candidate
    response = CharField(default="needs_action")


class Event(BaseModel):
    """A row of the event inbox: what a source sent, kept until it is processed."""

    PENDING, PROCESSED, FAILED, IGNORED = "pending", "processed", "failed", "ignored"
    # Processed, but some rule it was for could not do all it should: `note` says which and why.
    INCOMPLETE = "incomplete"

    account = ForeignKeyField(Account, on_delete="CASCADE")
    source = CharField()
    external_id = CharField()
    type = CharField(default="")
    payload = JSONField()
    occurred_at = UTCDateTimeField(null=True)
    received_at = UTCDateTimeField(default=utcnow)
    status = CharField(default="pending")
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    next_attempt_at = UTCDateTimeField(null=True)
    processed_at = UTCDateTimeField(null=True)
    note = TextField(null=True)
    # What the vendor's API said about the row's ids (Lever's opportunity, its owner and stage), looked
    # up before the worker's transaction; the adapter reads it instead of calling the vendor.
    lookups = JSONField(null=True)
    # The row's partition within its account (webapp/claims.py): "candidate:<id>", "job:<id>" or
    # "" (the account alone). Workers on PostgreSQL never process two rows of one partition at
    # once, and take a partition's rows in order.
    claim_key = CharField(default="")

    class Meta:
        indexes = (
            (("account", "source", "external_id"), True),
            (("status", "next_attempt_at"), False),
            (("account", "claim_key"), False),
        )

    @classmethod
    def counts(cls, account=None):
        """Inbox rows by status, for one account or all."""
        from peewee import fn

        query = cls.select(cls.status, fn.COUNT(cls.id).alias("n")).group_by(cls.status)
        if account is not None:
            query = query.where(cls.account == account)
        return {row.status: row.n for row in query}

    @classmethod
    def recent(cls, account, status=None, before=None, limit=50):
        """The account's inbox rows, newest first; `before` an id to page back from."""
        query = cls.select().where(cls.account == account)
        if status:
            query = query.where(cls.status == status)
        if before:
            query = query.where(cls.id < before)
        return list(query.order_by(cls.id.desc()).limit(limit))

    @classmethod
    def rule_problems(cls, account, limit=200):
        """What rules could not do lately, per rule: {rule id: {"count", "reason", "event"}} from the
        notes of the account's last `limit` incomplete rows (the newest reason and row kept)."""
        rows = (
            cls.select(cls.id, cls.note)
            .where(cls.account == account, cls.status == cls.INCOMPLETE, cls.note.is_null(False))
            .order_by(cls.id.desc())
            .limit(limit)
        )
        problems = {}
        for row in rows:
            # A note is "rule_id: reason; other_rule: reason" (pipeline._process).
            for part in re.split(r"; (?=[a-z][a-z0-9_]*: )", row.note):
                rule_id, _, reason = part.partition(": ")
                entry = problems.setdefault(rule_id, {"count": 0, "reason": reason, "event": row.id})
                entry["count"] += 1
        return problems

    @classmethod
    def docket_cancellation_of(cls, schedule):
        """The inbox row of the schedule's latest cancellation made in Docket (among the account's
        last 50), or None."""
        rows = (
            cls.select()
            .where(cls.account == schedule.account_id, cls.source == "docket", cls.type == "schedule.cancelled")
            .order_by(cls.id.desc())
            .limit(50)
        )
        named = (row for row in rows if (row.payload["data"].get("schedule") or {}).get("id") == schedule.external_id)
        return next(named, None)

    @classmethod
    def latest_of(cls, account, limit):
        """The account's last `limit` inbox rows that were processed, oldest first, for a replay."""
        query = (
            cls.select()
            .where(cls.account == account, cls.status.in_([cls.PROCESSED, cls.INCOMPLETE, cls.FAILED, cls.PENDING]))
            .order_by(cls.id.desc())
            .limit(limit)
        )
        return list(reversed(list(query)))

    @classmethod
    def of_account(cls, account, event_id):
        """The account's inbox row with this id, or None (another account's row is not found)."""
        return cls.get_or_none(cls.account == account, cls.id == event_id)


class AlreadyOpen(Exception):
    """A completed task cannot be reopened: another task for its rule and key is open (`task`)."""

    def __init__(self, task):
        super().__init__(f"task {task.id if task else '?'} for the same work is open")
        self.task = task


class Task(BaseModel):
    """Something a coordinator should do, raised by a rule for one (rule, key)."""

    OPEN, SNOOZED, COMPLETED = "open", "snoozed", "completed"
    # The live task of its rule and key (one at most, migration 0019): events resolve and retrigger
    # it, snoozed or not.
    LIVE = (OPEN, SNOOZED)
    # Why a task was dismissed (it is then a completed task with a dismiss_reason).
    DISMISS_REASONS = {
        "duplicate": "Duplicate",
        "handled_outside": "Handled outside Docket",
        "not_needed": "Not needed",
        "other": "Other",
    }

    account = ForeignKeyField(Account, on_delete="CASCADE")
    rule_id = CharField()
    category = CharField()
    # The rule's key as canonical JSON; key_head is its first value, indexed so
    # that resolving by a partial key does not scan the rule's tasks.
    key = TextField()
    key_head = CharField(null=True)
    title = TextField()
    recommended_action = TextField()
    description = TextField(default="")
    assignee = ForeignKeyField(User, null=True, backref="tasks", on_delete="SET NULL")
    priority = CharField(default="normal")
    priority_rank = IntegerField(default=2)
    status = CharField(default="open")
    subjects = JSONField(default=dict)
    # The ATS id of the candidate the subjects name, indexed for hand-overs (open_about_candidate).
    candidate_external_id = CharField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    last_triggered_at = UTCDateTimeField()
    raised_by_event = ForeignKeyField(Event, null=True, on_delete="SET NULL")
    completed_at = UTCDateTimeField(null=True)
    completed_by_user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    completed_by_event = ForeignKeyField(Event, null=True, on_delete="SET NULL")
    # A colleague's task completed by hand: whose list it was on.
    completed_on_behalf_of = ForeignKeyField(User, null=True, on_delete="SET NULL")
    completion_reason = TextField(null=True)
    # When the rule's `due:` says the task is due (None: no due time), and when the event that raised
    # it happened: how long the candidate or interviewer has been waiting.
    due_at = DueField(default=lambda: None)  # a callable: peewee fills a None default in no insert
    waiting_since = UTCDateTimeField(null=True)
    # Whom the assignee covers for while they are away (an Absence): theirs again at their return.
    covering_for = ForeignKeyField(User, null=True, on_delete="SET NULL")
    # While snoozed: when the task wakes (None: when an event its rule's `wake_on` names comes).
    snoozed_until = UTCDateTimeField(null=True)
    # A dismissed task is completed, with one of DISMISS_REASONS and the dismisser's note.
    dismiss_reason = CharField(null=True)
    dismiss_note = TextField(null=True)

    class Meta:
        indexes = (
            # A coordinator's list and everyone's, read in their order (id last, so that PostgreSQL
            # sorts nothing either; task_listing_assignee_due and task_listing_due), and "Show
            # completed", newest first: migrations 0014 and 0017.
            (("account", "assignee", "status", "due_at", "priority_rank", "created_at", "id"), False),
            (("account", "status", "due_at", "priority_rank", "created_at", "id"), False),
            (("account", "assignee", "status", "completed_at", "id"), False),
            (("account", "rule_id", "status", "key_head"), False),
            (("account", "status", "category"), False),
            (("account", "status", "candidate_external_id"), False),
            # Partial, so not declared here: the sweep's look for snoozes that have ended
            # (task_status_snoozed_until) and the dismissed tasks' task_dismissed_assignee_due and
            # task_dismissed_due: migration 0019.
            # The Team page's figures (webapp/insight.py), each read from its index alone: 0021.
            (("account", "status", "assignee", "category", "due_at"), False),
            (("account", "created_at"), False),
            (("account", "status", "completed_at", "category", "created_at", "dismiss_reason"), False),
        )

    @classmethod
    def open_of_rule(cls, account_id, rule_id, head=None):
        """The account's open tasks of a rule, those whose key starts with `head` when given
        (asked for every trigger and resolution the worker applies: built once)."""

        def open_of_rule():
            return cls.select().where((cls.account == 0) & (cls.rule_id == "") & cls.status.in_(cls.LIVE))

        # Snoozed tasks too: they are still the live task of their key.
        if head is None:
            sql = prebuilt_sql("open_of_rule", open_of_rule)
            return raw_rows(cls, sql, account_id, rule_id, *cls.LIVE)
        sql = prebuilt_sql("open_of_rule_by_head", lambda: open_of_rule().where(cls.key_head == ""))
        return raw_rows(cls, sql, account_id, rule_id, *cls.LIVE, str(head))

    @classmethod
    def open_about_candidate(cls, account, candidate_id):
        """The account's open (and snoozed) tasks about the candidate with this ATS id, oldest first."""
        query = cls.select().where(
            cls.account == account, cls.status.in_(cls.LIVE), cls.candidate_external_id == str(candidate_id)
        )
        return list(query.order_by(cls.id))

    @classmethod
    def give_unassigned_to(cls, user, note):
        """Give the account's open tasks that nobody could be named for (no one had signed in yet)
        to `user`, noting it in each task's history; returns how many."""
        orphans = list(
            cls.select().where(cls.account == user.account_id, cls.status.in_(cls.LIVE), cls.assignee.is_null())
        )
        for task in orphans:
            task.assignee = user
            task.save(only=[cls.assignee])
            TaskHistory.create(account=user.account_id, task=task, kind="reassigned", note=note)
        return len(orphans)

    @classmethod
    def assigned_to(cls, assignee):
        """The condition for a listing's assignee: a User, UNASSIGNED (nobody), or None (everyone)."""
        if assignee is None:
            return cls.id.is_null(False)
        if assignee == UNASSIGNED:
            return cls.assignee.is_null()
        return cls.assignee == assignee

    @classmethod
    def open_broken_integrations(cls, account):
        """The account's open Broken Integration tasks by the integration's id: {id: task}. Each was
        opened by its outage's first failure, so it says since when the integration fails."""
        tasks = cls.select(cls.id, cls.subjects, cls.created_at).where(
            cls.account == account, cls.rule_id == "broken_integration", cls.status == cls.OPEN
        )
        return {str(((t.subjects or {}).get("integration") or {}).get("id")): t for t in tasks.order_by(cls.id)}

    @classmethod
    def next_open(cls, account, assignee, after):
        """The open task that follows `after` (a task) in the assignee's list, else their first one, or None:
        where a coordinator goes on after finishing a task."""
        base = cls.select(cls.id).where(cls.account == account, cls.status == cls.OPEN, cls.assigned_to(assignee))
        base = base.where(cls.id != after.id).order_by(cls.priority_rank, cls.created_at, cls.id)
        since = Tuple(after.priority_rank, cls.created_at.db_value(after.created_at), after.id)
        following = base.where(Tuple(cls.priority_rank, cls.created_at, cls.id) > since).first()
        return following or base.first()

    @property
    def key_values(self):
        return json.loads(self.key)

    @property
    def sort_key(self):
        """Where the task stands in a listing: (status, due_at, priority_rank, created_at, id)."""
        return (self.status, self.due_at, self.priority_rank, self.created_at, self.id)

    @classmethod
    def listing_order(cls):
        """The listings' order, that of their indexes: soonest due first (overdue ones are the
        soonest), those without a due time last, then most urgent, then oldest."""
        return (cls.due_at, cls.priority_rank, cls.created_at, cls.id)

    @classmethod
    def listing(cls, account, assignee=None, status="open", category=None, after=None, limit=50):
        """A page of an account's tasks, open before completed, each in listing_order,
        with the people on them joined in; returns (tasks, whether more follow).

        assignee: a User, or None for everyone's; status: open, snoozed, completed, dismissed (the
        completed ones with a dismiss_reason) or all (open, snoozed, then completed); after: the
        sort_key of the previous page's last task. Each status is read in the order of an index,
        from where the previous page ended, so a page costs the same however many tasks there are.
        """
        statuses = [s for s in (cls.OPEN, cls.SNOOZED, cls.COMPLETED) if status in (s, "all")]
        if status == "dismissed":
            statuses = [cls.COMPLETED]
        if after is not None:
            statuses = statuses[statuses.index(after[0]) :] if after[0] in statuses else []
        tasks = []
        for part in statuses:
            query = cls.select().where(cls.account == account, cls.status == part, cls.assigned_to(assignee))
            if status == "dismissed":
                # Dismissed tasks are completed ones: read in the same index's order, the others passed over.
                query = query.where(cls.dismiss_reason.is_null(False))
            if category:
                query = query.where(cls.rule_id == category)
            if after is not None and after[0] == part:
                _, due_at, rank, created_at, task_id = after
                since = Tuple(cls.due_at.db_value(due_at), rank, cls.created_at.db_value(created_at), task_id)
                query = query.where(Tuple(*cls.listing_order()) > since)
            page = query.order_by(*cls.listing_order()).limit(limit + 1 - len(tasks))
            sql, params = page.sql()
            tasks.extend(raw_rows(cls, sql, *params))  # built faster than peewee's own rows
            if len(tasks) > limit:
                break
        more, tasks = len(tasks) > limit, tasks[:limit]
        cls._with_people(tasks)
        return tasks, more

    @classmethod
    def of_account(cls, account, task_id):
        """The account's task with this id, or None (another account's task is not found)."""
        return cls.get_or_none(cls.account == account, cls.id == task_id)

    def complete_by(self, user, on_behalf_of=None, note=None):
        """Complete by hand (a snoozed task too); on a colleague's list, record whose list it was
        (and why, when given)."""
        return self._finish_by(user, "completed", on_behalf_of, note)

    def dismiss_by(self, user, reason, note=""):
        """Dismiss by hand: completed, for one of DISMISS_REASONS and the note; False when the task
        is completed already."""
        if reason not in self.DISMISS_REASONS:
            raise ValueError(f"unknown dismiss reason {reason!r}")
        return self._finish_by(user, "dismissed", None, note, reason=reason)

    def _finish_by(self, user, kind, on_behalf_of, note, reason=None):
        if self.status == self.COMPLETED:
            return False
        with database.atomic():
            self.status = self.COMPLETED
            self.completed_at = utcnow()
            self.completed_by_user = user
            self.completed_by_event = None
            behalf = on_behalf_of or self.assignee
            self.completed_on_behalf_of = behalf if behalf and behalf.id != user.id else None
            self.completion_reason = None
            self.snoozed_until = None
            self.dismiss_reason = reason
            self.dismiss_note = ((note or "").strip() or None) if reason else None
            self.save()
            behalf = self.completed_on_behalf_of
            said = note
            if reason:
                said = self.DISMISS_REASONS[reason] + (f": {self.dismiss_note}" if self.dismiss_note else "")
            note = "; ".join(part for part in (said, behalf and f"on behalf of {behalf.display_name}") if part)
            TaskHistory.create(account=self.account_id, task=self, kind=kind, user=user, note=note)
        return True

    @property
    def dismissed(self):
        """The reason's words when the task was dismissed, else None."""
        return self.DISMISS_REASONS.get(self.dismiss_reason) if self.dismiss_reason else None

    def snooze_by(self, user, until=None, note=""):
        """Snooze an open (or already snoozed) task until `until` (an aware time), or, with None,
        until an event its rule's `wake_on` names; False when the task is completed."""
        with database.atomic():
            # Only while it is live as stored: a worker may have completed it since it was read.
            snoozed = (
                Task.update(status=Task.SNOOZED, snoozed_until=until)
                .where(Task.id == self.id, Task.status.in_(Task.LIVE))
                .execute()
            )
            if not snoozed:
                return False
            self.status, self.snoozed_until = self.SNOOZED, until
            TaskHistory.create(account=self.account_id, task=self, kind="snoozed", user=user, note=note)
        return True

    def wake_by(self, user, note="woken by hand"):
        """End a snooze now (the "Undo" of a snooze, or "Wake now"); False when it is not snoozed."""
        with database.atomic():
            woken = (
                Task.update(status=Task.OPEN, snoozed_until=None)
                .where(Task.id == self.id, Task.status == Task.SNOOZED)
                .execute()
            )
            if not woken:
                return False
            self.status, self.snoozed_until = self.OPEN, None
            TaskHistory.create(account=self.account_id, task=self, kind="woke", user=user, note=note)
        return True

    @classmethod
    def wake_due(cls, now=None, limit=500):
        """Wake every task whose snooze has ended (by `now`), each once however many sweeps run at
        the same time, noting it in its history; returns the accounts whose tasks woke."""
        now = now or utcnow()
        due = (
            cls.select(cls.id, cls.account)
            .where(cls.snoozed_until.is_null(False), cls.snoozed_until <= now, cls.status == cls.SNOOZED)
            .order_by(cls.snoozed_until)
            .limit(limit)
        )
        accounts = set()
        for task in list(due):
            with database.atomic():
                # Only the sweep whose update changed the row writes its history: the task wakes once.
                changed = (
                    cls.update(status=cls.OPEN, snoozed_until=None)
                    .where(cls.id == task.id, cls.status == cls.SNOOZED, cls.snoozed_until <= now)
                    .execute()
                )
                if changed:
                    TaskHistory.create(account=task.account_id, task=task.id, kind="woke", note="snooze ended")
                    accounts.add(task.account_id)
        return accounts

    @classmethod
    def snoozed_listing(cls, account, assignee, category=None, limit=50):
        """A coordinator's snoozed tasks in listing_order (the list's "Snoozed" filter), with their people."""
        query = cls.select().where(cls.account == account, cls.assigned_to(assignee), cls.status == cls.SNOOZED)
        if category:
            query = query.where(cls.rule_id == category)
        tasks = list(query.order_by(*cls.listing_order()).limit(limit))
        cls._with_people(tasks)
        return tasks

    @classmethod
    def any_snoozed(cls, account_id):
        """Whether any task of the account is snoozed: when none is, no event has a task to wake."""
        return cls.select(cls.id).where(cls.account == account_id, cls.status == cls.SNOOZED).limit(1).exists()

    def reopen_by(self, user, note=None):
        """Reopen a completed task (saying why, when given); raises AlreadyOpen when a task for the
        same rule and key has been opened since (the database keeps one open task per key)."""
        if self.status in self.LIVE:
            return False
        try:
            with database.atomic():
                self.status = self.OPEN
                self.completed_at = None
                self.completed_by_user = None
                self.completed_by_event = None
                self.completed_on_behalf_of = None
                self.completion_reason = None
                self.dismiss_reason = self.dismiss_note = None
                self.save()
                TaskHistory.create(account=self.account_id, task=self, kind="reopened", user=user, note=note or "")
        except IntegrityError:
            fresh = Task.get_by_id(self.id)
            self.__data__ = dict(fresh.__data__)  # as it is stored: still completed
            other = (
                Task.select()
                .where(
                    Task.account == self.account_id,
                    Task.rule_id == self.rule_id,
                    Task.key == self.key,
                    Task.status.in_(Task.LIVE),
                )
                .first()
            )
            raise AlreadyOpen(other) from None
        return True

    @classmethod
    def open_assigned_to(cls, account, user):
        """The account's live tasks (open or snoozed) on this person's list, oldest first."""
        live = cls.status.in_(cls.LIVE)
        return list(cls.select().where(cls.account == account, live, cls.assignee == user).order_by(cls.id))

    @classmethod
    def open_covering_for(cls, account, user):
        """The account's live tasks (open or snoozed) someone covers for this person (away), oldest first."""
        live = cls.status.in_(cls.LIVE)
        return list(cls.select().where(cls.account == account, live, cls.covering_for == user).order_by(cls.id))

    @classmethod
    def covering_pairs(cls):
        """(account id, person id) of every live task covering for someone: through a partial index
        of the tasks that cover (migration 0018), few."""
        query = (
            cls.select(cls.account, cls.covering_for)
            .where(cls.covering_for.is_null(False), cls.status.in_(cls.LIVE))
            .distinct()
        )
        return list(query.tuples())

    def move_to(self, coordinator, covering_for, note):
        """Give the task to `coordinator`, covering for someone away (or None), noting it in its history."""
        with database.atomic():
            self.assignee, self.covering_for = coordinator, covering_for
            self.save(only=[Task.assignee, Task.covering_for])
            TaskHistory.create(account=self.account_id, task=self, kind="reassigned", note=note)

    def hand_to(self, coordinator, user):
        """Give the task to another coordinator by hand, noting in its history who did it and whose
        list it was on; False when it is theirs already."""
        if self.assignee_id == coordinator.id:
            return False
        previous = self.assignee.display_name if self.assignee_id else "nobody"
        with database.atomic():
            # A hand-over by hand is a decision: the task no longer goes back at anyone's return.
            self.assignee, self.covering_for = coordinator, None
            self.save(only=[Task.assignee, Task.covering_for])
            note = f"handed to {coordinator.display_name} (was {previous})"
            TaskHistory.create(account=self.account_id, task=self, kind="reassigned", user=user, note=note)
        return True

    @staticmethod
    def batch():
        """A transaction for changing many tasks at once: all of the changes are kept, or none."""
        return database.atomic()

    @classmethod
    def selected(cls, account, task_ids):
        """The account's tasks among these ids, with their people, in list order (another
        account's ids are not found)."""
        if not task_ids:
            return []
        query = cls._with_people_joined().where(cls.account == account, cls.id.in_(sorted(set(task_ids))))
        return list(query.order_by(cls.priority_rank, cls.created_at, cls.id))

    @staticmethod
    def _with_people(tasks):
        """Give the tasks their assignee and completer, read in one query: a page names few people,
        and peewee builds rows of a joined query several times slower than a table's own."""
        ids = (
            {t.assignee_id for t in tasks}
            | {t.completed_by_user_id for t in tasks}
            | {t.covering_for_id for t in tasks}
        )
        ids.discard(None)
        people = {user.id: user for user in User.select().where(User.id.in_(sorted(ids)))} if ids else {}
        for task in tasks:
            if task.assignee_id is not None:
                task.assignee = people[task.assignee_id]
            if task.completed_by_user_id is not None:
                task.completed_by_user = people[task.completed_by_user_id]
            if task.covering_for_id is not None:
                task.covering_for = people[task.covering_for_id]

    @classmethod
    def _with_people_joined(cls):
        """Tasks with their assignee, who completed them, and on whose behalf: one query, no lazy loads."""
        Assignee = User.alias("assignee")
        Completer = User.alias("completer")
        Behalf = User.alias("behalf")
        Covered = User.alias("covered")
        left = JOIN.LEFT_OUTER
        return (
            cls.select(cls, Assignee, Completer, Behalf, Covered)
            .join_from(cls, Assignee, on=(cls.assignee == Assignee.id), join_type=left, attr="assignee")
            .join_from(
                cls, Completer, on=(cls.completed_by_user == Completer.id), join_type=left, attr="completed_by_user"
            )
            .join_from(
                cls, Behalf, on=(cls.completed_on_behalf_of == Behalf.id), join_type=left, attr="completed_on_behalf_of"
            )
            .join_from(cls, Covered, on=(cls.covering_for == Covered.id), join_type=left, attr="covering_for")
        )

    @classmethod
    def open_counts(cls, account, assignee):
        """Open tasks of one coordinator per rule: {rule_id: (category, count, sum of ids, highest id)}.

        The sums and highest ids let a page tell cheaply whether the list changed since it was drawn.
        """
        from peewee import fn

        query = (
            cls.select(
                cls.rule_id,
                fn.MAX(cls.category).alias("category_name"),
                fn.COUNT(cls.id).alias("n"),
                fn.SUM(cls.id).alias("id_sum"),
                fn.MAX(cls.id).alias("id_max"),
            )
            .where(cls.account == account, cls.assigned_to(assignee), cls.status == cls.OPEN)
            .group_by(cls.rule_id)
            .tuples()
        )
        return {rule_id: (name, n, int(id_sum or 0), id_max or 0) for rule_id, name, n, id_sum, id_max in query}

    @classmethod
    def page_listing(cls, account, assignee, category=None, completed_limit=0, open_limit=None):
        """A coordinator's open tasks (in listing_order, as read-only rows; the first
        open_limit of them) and, with completed_limit, their most recently completed ones, with
        every person shown on a row joined in."""

        def base():
            query = cls._with_people_joined().where(cls.account == account, cls.assigned_to(assignee))
            return query.where(cls.rule_id == category) if category else query

        # Open tasks have no completer, and their assignee is the one asked for: no joins, only the
        # columns a row shows, so that 500 rows stay cheap to build.
        shown = (cls.id, cls.rule_id, cls.category, cls.title, cls.recommended_action, cls.priority, cls.status)
        times = (cls.created_at, cls.due_at, cls.waiting_since)
        open_query = cls.select(*shown, cls.subjects, *times, cls.assignee, cls.covering_for).where(
            cls.account == account, cls.assigned_to(assignee), cls.status == cls.OPEN
        )
        if category:
            open_query = open_query.where(cls.rule_id == category)
        # Light rows (named tuples) rather than model instances: the page only reads them.
        open_query = open_query.order_by(*cls.listing_order())
        if open_limit:
            open_query = open_query.limit(open_limit)
        open_tasks = list(open_query.namedtuples())
        completed = []
        if completed_limit:
            completed = list(
                base()
                .where(cls.status == cls.COMPLETED)
                .order_by(cls.completed_at.desc(), cls.id.desc())
                .limit(completed_limit)
            )
        return open_tasks, completed

    @classmethod
    def with_people(cls, account, task_id):
        """The account's task with its assignee and the people who completed it, or None."""
        return cls._with_people_joined().where(cls.account == account, cls.id == task_id).first()

    @classmethod
    def opened_since(cls, account, assignee, after_id):
        """The coordinator's open tasks with an id above after_id: new since a page was drawn."""
        return list(
            cls.select(cls.id, cls.title)
            .where(cls.account == account, cls.assigned_to(assignee), cls.status == cls.OPEN, cls.id > after_id)
            .order_by(cls.id)
        )

    @classmethod
    def open_counts_by_rule(cls, account, rule_ids=None):
        """The account's open tasks per rule (everyone's): {rule_id: count}."""
        from peewee import fn

        query = cls.select(cls.rule_id, fn.COUNT(cls.id)).where(cls.account == account, cls.status == cls.OPEN)
        if rule_ids is not None:
            query = query.where(cls.rule_id.in_(sorted(rule_ids)))
        return dict(query.group_by(cls.rule_id).tuples())

    @classmethod
    def open_of_rules(cls, account, rule_ids):
        """The account's open (and snoozed) tasks of these rules."""
        return list(
            cls.select().where(cls.account == account, cls.status.in_(cls.LIVE), cls.rule_id.in_(sorted(rule_ids)))
        )


class TaskHistory(BaseModel):
    """One change to a task, with the user or event behind it."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    task = ForeignKeyField(Task, backref="history", on_delete="CASCADE")
    at = UTCDateTimeField(default=utcnow)
    kind = CharField()  # opened, retriggered, completed, reopened, reassigned, snoozed, woke, dismissed
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    event = ForeignKeyField(Event, null=True, on_delete="SET NULL")
    note = TextField(default="")

    @classmethod
    def history_of(cls, task):
        """A task's history, oldest first, with the people behind each change."""
        return list(
            cls.select(cls, User)
            .join(User, JOIN.LEFT_OUTER, on=(cls.user == User.id), attr="user")
            .where(cls.task == task)
            .order_by(cls.at, cls.id)
        )

    @classmethod
    def touched_by(cls, event_ids):
        """What each inbox row did to tasks: {event id: [(task, kinds)]}, in one query."""
        if not event_ids:
            return {}
        query = (
            cls.select(cls.event, cls.kind, Task.id, Task.title, Task.rule_id, Task.status)
            .join(Task, on=(cls.task == Task.id))
            .where(cls.event.in_(list(event_ids)))
            .order_by(cls.id)
        )
        touched = {}
        for row in query.namedtuples():
            tasks = touched.setdefault(row.event, {})
            entry = tasks.setdefault(
                row.id, {"id": row.id, "title": row.title, "rule_id": row.rule_id, "status": row.status, "kinds": []}
            )
            if row.kind not in entry["kinds"]:
                entry["kinds"].append(row.kind)
        return {event_id: list(tasks.values()) for event_id, tasks in touched.items()}


class Resolution(BaseModel):
    """A resolving event seen for a rule, so that a trigger older than it opens nothing."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    rule_id = CharField()
    key = TextField()
    key_head = CharField(null=True)
    occurred_at = UTCDateTimeField()
    event = ForeignKeyField(Event, null=True, on_delete="SET NULL")

    class Meta:
        indexes = ((("account", "rule_id", "key_head"), False),)

    @classmethod
    def of_rule(cls, account_id, rule_id, head):
        """The rule's resolutions whose key starts with `head` (or that have no head), key and time only."""

        def of_rule():
            return cls.select(cls.key, cls.occurred_at).where((cls.account == 0) & (cls.rule_id == ""))

        # Two index searches, not one "head = ? OR head IS NULL" that would read every resolution
        # the rule ever had.
        sql = prebuilt_sql(
            "resolutions_of_rule", lambda: of_rule().where(cls.key_head == "") + of_rule().where(cls.key_head.is_null())
        )
        return raw_rows(cls, sql, account_id, rule_id, head, account_id, rule_id)


CALENDAR_NAMES = {"google": "Google Calendar", "microsoft": "Microsoft 365"}


class Integration(BaseModel):
    """An ATS or a calendar connected to an account: its secrets (never shown again), health and sync state.

    Lever's `webhook_secret` may hold several signature tokens separated by commas or spaces
    (Lever gives each webhook its own token); any other ATS's secret is one string, spaces and all.
    `state` is the sync's memory: the stages last listed per job and the ATS's users.
    Calendars keep their credentials (a service account, a client secret) as JSON.
    """

    OK, FAILING = "ok", "failing"
    PROVIDERS = ("greenhouse", "lever", "ashby")
    CALENDAR_PROVIDERS = tuple(CALENDAR_NAMES)

    account = ForeignKeyField(Account, backref="integrations", on_delete="CASCADE")
    provider = CharField()
    webhook_secret = TextField(null=True)
    api_key = TextField(null=True)
    status = CharField(default="ok")
    last_error = TextField(null=True)
    state = JSONField(default=dict)
    connected_at = UTCDateTimeField(default=utcnow)
    last_synced_at = UTCDateTimeField(null=True)
    next_sync_at = UTCDateTimeField(null=True)
    kind = CharField(default="ats")  # ats or calendar
    credentials = JSONField(null=True)
    owner_email = CharField(null=True)

    class Meta:
        indexes = ((("account", "provider"), True),)

    @classmethod
    def of(cls, account, provider):
        """The account's integration with this provider, or None."""
        return cls.get_or_none(cls.account == account, cls.provider == provider)

    @classmethod
    def connected(cls, account):
        """The account's integrations by provider."""
        return {i.provider: i for i in cls.select().where(cls.account == account)}

    @classmethod
    def for_webhook(cls, provider, key):
        """The integration with this provider of the account whose webhook key this is, or None."""
        return cls.select().join(Account).where(Account.webhook_key == key, cls.provider == provider).first()

    @property
    def webhook_secrets(self):
        """The secrets a delivery's signature may be made with."""
        secret = self.webhook_secret or ""
        if self.provider == "lever":
            return [s for s in secret.replace(",", " ").split() if s]
        return [secret] if secret else []

    @property
    def display_name(self):
        return CALENDAR_NAMES.get(self.provider) or self.provider.capitalize()

    def as_record(self):
        """The integration as events name it (its owner, when known, is who connected it)."""
        record = {"id": str(self.id), "kind": self.kind or "ats", "provider": self.provider, "name": self.display_name}
        if self.owner_email:
            owner = User.get_or_none(User.account == self.account_id, User.email == self.owner_email)
            record["owner"] = owner.as_person() if owner else {"email": self.owner_email, "name": ""}
        return record

    @classmethod
    def failing_of(cls, account):
        """The account's integrations that are broken now, for the banner every user sees."""
        return list(cls.select().where(cls.account == account, cls.status == cls.FAILING).order_by(cls.id))

    def cached(self, section, key):
        """An entry of a section of `state` the vendor's look-ups fill (users, stages, postings), or None."""
        return ((self.state or {}).get(section) or {}).get(str(key))

    def remember(self, section, key, value):
        """Add an entry to a section of `state`, on a fresh copy of it, so that whatever was saved
        meanwhile (a sync's job listings, its health, another worker's entries) is kept."""
        with database.atomic():
            query = Integration.select().where(Integration.id == self.id)
            fresh = (query.for_update() if is_postgres() else query).first()
            if fresh is None:
                return
            state = dict(fresh.state or {})
            state[section] = {**(state.get(section) or {}), str(key): value}
            Integration.update(state=state).where(Integration.id == self.id).execute()
        self.state = {**(self.state or {}), section: state[section]}


class RulebookVersion(BaseModel):
    """One saved version of an account's rulebook: its text, its own rule tests, who saved it and why.

    An account with no versions runs the default rules.yaml. `removed_rules` records, for each
    rule this version dropped while it had open tasks, what was done with them: {rule_id:
    "complete" | "keep"}.
    """

    account = ForeignKeyField(Account, backref="rulebook_versions", on_delete="CASCADE")
    number = IntegerField()
    text = TextField()
    tests = TextField(default="")
    author = ForeignKeyField(User, null=True, on_delete="SET NULL")
    message = TextField(default="")
    restored_from = IntegerField(null=True)
    removed_rules = JSONField(default=dict)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "rulebook_version"
        indexes = ((("account", "number"), True),)

    @classmethod
    def latest(cls, account):
        """The account's newest version, or None while it runs the default rulebook."""
        return cls.select().where(cls.account == account).order_by(cls.number.desc()).first()

    @classmethod
    def latest_ids(cls, account_ids):
        """{account id: id of its newest version} for the accounts that have saved one; one query."""
        from peewee import fn

        if not account_ids:
            return {}
        query = (
            cls.select(cls.account, fn.MAX(cls.id).alias("latest"))
            .where(cls.account.in_(sorted(account_ids)))
            .group_by(cls.account)
            .tuples()
        )
        return dict(query)

    @classmethod
    def history(cls, account):
        """The account's versions, newest first, with their authors joined in."""
        return list(
            cls.select(cls, User)
            .join(User, JOIN.LEFT_OUTER, on=(cls.author == User.id), attr="author")
            .where(cls.account == account)
            .order_by(cls.number.desc())
        )

    @classmethod
    def of_account(cls, account, number):
        """The account's version with this number, or None."""
        return cls.get_or_none(cls.account == account, cls.number == number)


class Room(BaseModel):
    """A bookable room: a calendar resource with a name and an e-mail address."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    name = CharField()
    email = CharField()

    class Meta:
        indexes = ((("account", "email"), True),)

    @classmethod
    def of_account(cls, account):
        """The account's rooms, by name."""
        return list(cls.select().where(cls.account == account).order_by(cls.name, cls.email))


class JobDefaults(BaseModel):
    """A job's set-up in Docket: how long its interviews last and who usually interviews."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    job = ForeignKeyField(Job, unique=True, on_delete="CASCADE")
    duration_minutes = IntegerField(default=60)
    interviewer_ids = JSONField(default=list)
    updated_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    updated_at = UTCDateTimeField(default=utcnow)

    @classmethod
    def of_job(cls, job):
        """The job's defaults, or None before it was set up."""
        return cls.get_or_none(cls.job == job)


class InterviewTemplate(BaseModel):
    """How an interview is usually booked: its length, its interviewers, and whether it needs a room."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    interview = ForeignKeyField(Interview, unique=True, on_delete="CASCADE")
    duration_minutes = IntegerField(default=60)
    interviewer_ids = JSONField(default=list)
    needs_room = BooleanField(default=False)
    room = ForeignKeyField(Room, null=True, on_delete="SET NULL")
    updated_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    updated_at = UTCDateTimeField(default=utcnow)

    @classmethod
    def for_interviews(cls, interviews):
        """{interview id: template} for some interviews."""
        ids = [i.id for i in interviews]
        return {t.interview_id: t for t in cls.select().where(cls.interview.in_(ids))} if ids else {}


class CalendarWatch(BaseModel):
    """Docket's watch on one organizer's calendar: a Google push channel or a Microsoft Graph
    subscription, with the cursor (sync token, delta link) of the last sync.

    `channel_token` is the secret the calendar echoes back (Google's channel token, Graph's
    clientState); a notification without it is refused.
    """

    ACTIVE, REMOVED = "active", "removed"

    account = ForeignKeyField(Account, on_delete="CASCADE")
    integration = ForeignKeyField(Integration, backref="watches", on_delete="CASCADE")
    calendar = CharField()  # the organizer's e-mail
    channel_id = CharField(null=True)  # Google: our channel id; Microsoft: the subscription id
    channel_token = CharField(default=lambda: secrets.token_urlsafe(32))
    resource_id = CharField(null=True)  # Google's id of the watched resource, needed to stop a channel
    expires_at = UTCDateTimeField(null=True)
    cursor = TextField(null=True)  # Google: nextSyncToken; Microsoft: @odata.deltaLink
    status = CharField(default="active")
    sync_requested_at = UTCDateTimeField(null=True)  # a notification came: sync soon
    last_synced_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("integration", "calendar"), True),
            (("integration", "channel_id"), False),
        )

    @classmethod
    def calendar_in_use(cls, integration, calendar):
        """An event was just put on this calendar: unless it is watched already, the integration's
        maintenance is due now, so the calendar is watched soon."""
        if cls.get_or_none(cls.integration == integration, cls.calendar == calendar) is None:
            Integration.update(next_sync_at=utcnow()).where(Integration.id == integration.id).execute()

    @classmethod
    def by_channel(cls, integration, channel_id):
        """The integration's watch with this channel (or subscription) id, or None."""
        if not channel_id:
            return None
        return cls.get_or_none(cls.integration == integration, cls.channel_id == str(channel_id))

    def token_matches(self, given):
        """Compare a notification's token (or clientState) with ours in constant time."""
        return bool(given) and hmac.compare_digest(str(given).encode(), self.channel_token.encode())


class NotificationSettings(BaseModel):
    """What a person (or, with no user, the account's team Slack channel) wants to be told, per
    rule category and channel: {"email": {category: immediate|digest|none}, "slack": {...}}; a
    category not named has its default (webapp/notifications.py)."""

    account = ForeignKeyField(Account, on_delete="CASCADE")
    user = ForeignKeyField(User, null=True, unique=True, on_delete="CASCADE")
    choices = JSONField(default=dict)
    slack_webhook_url = TextField(null=True)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "notification_settings"

    @classmethod
    def of(cls, account, user=None):
        """The saved settings of a person (or of the account's team when user is None), or None."""
        who = cls.user.is_null() if user is None else (cls.user == user)
        return cls.get_or_none((cls.account == account) & who)


class Notification(BaseModel):
    """The outbox: one message to send (an urgent task's, or a day's digest) on one channel to one
    person or team, recorded in the transaction that made its reason, sent by a worker. Once sent it
    is never sent again; a failed attempt waits `next_attempt_at` and tries again."""

    PENDING, SENT, SKIPPED, FAILED = "pending", "sent", "skipped", "failed"

    account = ForeignKeyField(Account, on_delete="CASCADE")
    user = ForeignKeyField(User, null=True, on_delete="CASCADE")  # None: the account's team Slack
    task = ForeignKeyField(Task, null=True, on_delete="CASCADE")
    channel = CharField()  # email or slack
    kind = CharField()  # urgent or digest
    day = CharField(null=True)  # the digest's date, in the person's zone
    # What makes it one message: a second digest of the same person, channel and day is not recorded.
    dedupe_key = CharField(unique=True)
    status = CharField(default=PENDING)
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    next_attempt_at = UTCDateTimeField(default=utcnow)
    created_at = UTCDateTimeField(default=utcnow)
    sent_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("status", "next_attempt_at"), False), (("user", "kind", "day"), False))


# Every table, parents before children.
MODELS = [
    Account,
    User,
    AccountCreator,
    Absence,
    ApiToken,
    Job,
    Stage,
    Interview,
    Candidate,
    Application,
    ApplicationMove,
    Schedule,
    ScheduledInterview,
    Attendee,
    Event,
    Task,
    TaskHistory,
    Resolution,
    Integration,
    RulebookVersion,
    Room,
    JobDefaults,
    InterviewTemplate,
    CalendarWatch,
    NotificationSettings,
    Notification,
]
