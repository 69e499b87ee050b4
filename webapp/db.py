"""The peewee database: one proxy, bound to SQLite or PostgreSQL by create_app."""

import time
from pathlib import Path

from flask import request
from peewee import DatabaseProxy, InterfaceError, OperationalError, PostgresqlDatabase, SqliteDatabase
from playhouse.db_url import parse
from playhouse.pool import PooledDatabase, PooledPostgresqlDatabase, PooledSqliteDatabase
from playhouse.shortcuts import ReconnectMixin

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    # WAL makes NORMAL durable against application crashes, and commits cheap.
    "synchronous": "normal",
    "foreign_keys": 1,
    # Short: waiting for the write lock is done by _PollForWriteLock, in finer steps.
    "busy_timeout": 2,
    # Deleted and overwritten content is zeroed, not left in free space: an erased candidate's
    # data must not stay in the file (webapp/erasure.py checkpoints the WAL after an erasure).
    "secure_delete": 1,
}
LOCK_WAIT_SECONDS = 15


class _PollForWriteLock:
    """Wait for SQLite's write lock by trying again every millisecond.

    SQLite's own busy handler backs off to 100 ms between tries, so a webhook
    waiting behind a worker's batch polls too rarely to slip in between two
    batches, and answers late. Only statements outside a transaction (BEGIN
    among them) are tried again: nothing of theirs has happened yet.
    """

    def begin(self, *args, **kwargs):
        return self._polling(super().begin, *args, **kwargs)

    def execute_sql(self, sql, params=None):
        return self._polling(super().execute_sql, sql, params)

    def _polling(self, statement, *args, **kwargs):
        deadline = None
        while True:
            try:
                return statement(*args, **kwargs)
            except OperationalError as exc:
                connection = self._state.conn
                if "locked" not in str(exc) or (connection is not None and connection.in_transaction):
                    raise
                deadline = deadline or time.monotonic() + LOCK_WAIT_SECONDS
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.001)


class DocketSqliteDatabase(_PollForWriteLock, SqliteDatabase):
    pass


class PooledDocketSqliteDatabase(_PollForWriteLock, PooledSqliteDatabase):
    pass


class _ReconnectOnDroppedConnection(ReconnectMixin):
    """A statement that finds its PostgreSQL connection dropped (the server restarted, an admin's
    pg_terminate_backend, a proxy's idle time-out: a pooled connection may have been dead for a
    while) is tried once more on a fresh connection. Only outside a transaction, as peewee's
    mixin does: inside one, what was done before would be lost, so the error stands."""

    reconnect_errors = (
        (OperationalError, "server closed the connection"),
        (OperationalError, "terminating connection"),
        (OperationalError, "could not receive data"),
        (OperationalError, "connection has been closed"),
        (OperationalError, "ssl syscall error"),
        (InterfaceError, "connection already closed"),
    )


def is_dropped_connection(exc):
    """Whether a database error says the connection itself is gone (see _ReconnectOnDroppedConnection)."""
    text = str(exc).lower()
    return any(
        isinstance(exc, kind) and fragment in text for kind, fragment in _ReconnectOnDroppedConnection.reconnect_errors
    )


def retry_if_dropped(work):
    """Run `work()` (a whole transaction of its own), once more on a fresh connection if the first
    try found the connection dropped: the transaction rolled back with it, so nothing is done twice."""
    try:
        return work()
    except (OperationalError, InterfaceError) as exc:
        if not is_dropped_connection(exc) or database.in_transaction():
            raise
        database.close()
        return work()


class DocketPostgresDatabase(_ReconnectOnDroppedConnection, PostgresqlDatabase):
    pass


class PooledDocketPostgresDatabase(_ReconnectOnDroppedConnection, PooledPostgresqlDatabase):
    pass


def open_database(url, pooled=False):
    """A peewee database for a DATABASE_URL; SQLite gets WAL and a busy timeout.

    pooled: keep connections open between requests (the web app). Opening and
    closing a SQLite connection per request costs more than most requests.
    Workers fork, and a connection must never cross a fork, so they do not pool.
    """
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # IMMEDIATE: a transaction takes the write lock up front, so two writers
        # wait for each other instead of failing on a lock upgrade.
        options = {"pragmas": SQLITE_PRAGMAS, "autoconnect": True, "lock_type": "IMMEDIATE"}
        if pooled:
            return PooledDocketSqliteDatabase(
                path, max_connections=32, stale_timeout=300, check_same_thread=False, **options
            )
        return DocketSqliteDatabase(path, **options)
    if not url.startswith(("postgres://", "postgresql://")):
        raise ValueError(f"DATABASE_URL must be sqlite:///… or postgresql://…, not {url.split(':', 1)[0]}:")
    options = parse(url)
    if pooled:
        return PooledDocketPostgresDatabase(autoconnect=True, max_connections=32, stale_timeout=300, **options)
    return DocketPostgresDatabase(autoconnect=True, **options)


_statements = {}


def prebuilt_sql(key, build):
    """The SQL text of a query that peewee builds once per key and kind of database.

    Building a statement's text costs peewee more than running it costs SQLite, and the
    worker runs the same few statements for every event. `build()` makes the query with
    placeholder values; the caller then runs the text with its own values, in the same order.
    """
    key = (type(database.obj), key)
    sql = _statements.get(key)
    if sql is None:
        sql = _statements[key] = build().sql()[0]
    return sql


def is_sqlite():
    return isinstance(database.obj, SqliteDatabase)


def is_postgres():
    """True when the bound database is PostgreSQL (row locks with SKIP LOCKED)."""
    return isinstance(database.obj, PostgresqlDatabase)


def init_app(app):
    """Bind the proxy to the configured database and scope a connection to each request."""
    previous = database.obj
    if isinstance(previous, PooledDatabase):
        previous.close_all()  # a second app in one process (tests) must not leak the first one's pool
    database.initialize(open_database(app.config["DATABASE_URL"], pooled=app.config.get("DATABASE_POOL", True)))

    @app.before_request
    def _connect():
        # A view marked without_database (the liveness and readiness probes) answers while it is down.
        if not getattr(app.view_functions.get(request.endpoint), "without_database", False):
            database.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if not database.is_closed():
            database.close()


def migrate():
    """Create or upgrade the schema: run every migration not yet applied."""
    from playhouse.migrations import Runner

    directory = str(Path(__file__).parent / "migrations")
    with database.connection_context():
        return Runner(database.obj, directory=directory).up()
