"""A pooled PostgreSQL connection that the server dropped (a restart, pg_terminate_backend, a
proxy's idle time-out) costs no request a 500: the statement is tried once more on a fresh one."""

import psycopg2
import pytest
from peewee import InterfaceError, OperationalError

from tests.conftest import BACKEND
from webapp.db import database

pytestmark = pytest.mark.skipif(BACKEND != "services", reason="PostgreSQL drops connections; SQLite has none")


def _terminate_every_other_connection(url):
    killer = psycopg2.connect(url)
    killer.autocommit = True
    with killer.cursor() as cur:
        cur.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        killed = cur.fetchone()[0]
    killer.close()
    return killed


def test_requests_after_the_server_dropped_the_pooled_connections_succeed(app, make_account, settings):
    acme = make_account()
    for _ in range(5):  # connections in the pool, each used and returned
        assert acme.get("/api/tasks").status_code == 200
    database.close()
    assert _terminate_every_other_connection(settings["DATABASE_URL"]) >= 1
    answers = [acme.get("/api/tasks").status_code for _ in range(20)]
    assert answers == [200] * 20


def test_a_connection_dropped_while_checked_out_is_replaced_for_reads_and_for_storing_an_event(
    app, make_account, settings
):
    """The pool's check-out cannot tell a connection the server dropped while a request held it:
    the request's next statement (or its transaction) is what finds out."""
    from tests import events as ev
    from webapp.models import Event

    acme = make_account()
    for path, send in (("/api/tasks", lambda: acme.get("/api/tasks")), ("/api/events", None)):
        database.connect(reuse_if_open=True)  # a request reuses the connection this thread holds
        database.execute_sql("SELECT 1")
        assert _terminate_every_other_connection(settings["DATABASE_URL"]) >= 1
        if send is None:
            answer = acme.post_event(ev.job_event("created"))
            assert answer.status_code == 202, path
        else:
            assert send().status_code == 200, path
    assert Event.select().count() == 1


def test_a_dropped_connection_inside_a_transaction_is_not_retried_silently(app, make_account, settings):
    make_account()
    database.connect(reuse_if_open=True)
    with pytest.raises((OperationalError, InterfaceError)) as raised, database.atomic():
        database.execute_sql("SELECT 1")
        _terminate_every_other_connection(settings["DATABASE_URL"])
        database.execute_sql("SELECT 1")
    assert "terminat" in str(raised.value) or "closed" in str(raised.value)
    database.close()
