"""The peewee database: one proxy, bound to SQLite or PostgreSQL by create_app."""

import contextlib
import fcntl
import os
import threading
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


class _WebWriterSignal:
    """Tells a worker holding SQLite's write lock that the web waits for it, across processes.

    The web holds a shared flock on `<database>-web-waiting` while it waits for the lock and
    writes (`web_writing`); a worker asks between two rows whether anyone does
    (`web_waiting`: an exclusive flock that fails at once while someone does), and ends its
    batch's transaction there, so that an acknowledgement waits for one row, not a batch.
    A process that dies lets go of its flock with it.
    """

    def _signal_file(self, role):
        """This process's descriptor of the signal file for a role ("web" or "worker"): one each,
        since flocks taken through one open file do not conflict (a process may play both roles).
        None for a database in memory: no other process shares it."""
        if self.database in ("", ":memory:") or self.database.startswith("file:"):
            return None
        files = getattr(self, "_signal_files", None)
        if files is None or files[0] != os.getpid():  # a forked process opens its own
            with _signal_mutex:
                path = f"{self.database}-web-waiting"
                opened = {r: os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600) for r in ("web", "worker")}
                self._signal_files = files = (os.getpid(), opened)
        return files[1][role]

    @contextlib.contextmanager
    def web_writing(self):
        fd = self._signal_file("web")
        if fd is None:
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def web_waiting(self):
        fd = self._signal_file("worker")
        if fd is None:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False


_signal_mutex = threading.Lock()


class DocketSqliteDatabase(_WebWriterSignal, _PollForWriteLock, SqliteDatabase):
    pass


class PooledDocketSqliteDatabase(_WebWriterSignal, _PollForWriteLock, PooledSqliteDatabase):
    pass


def web_writing():
    """A context in which the web waits for the write lock and writes (SQLite; nothing elsewhere)."""
    obj = database.obj
    return obj.web_writing() if isinstance(obj, _WebWriterSignal) else contextlib.nullcontext()


def web_waiting():
    """Whether a web process waits for SQLite's write lock now (False on PostgreSQL, where writers
    of other rows do not wait for each other)."""
    obj = database.obj
    return obj.web_waiting() if isinstance(obj, _WebWriterSignal) else False


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
