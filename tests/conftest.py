"""Fixtures: the app on real services (SQLite + embedded Redis, or PostgreSQL + Redis), a client,
accounts with API tokens, and a real worker process."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest

from webapp import create_app
from webapp.db import database, migrate
from webapp.embedded_redis import EmbeddedRedis
from webapp.models import MODELS, Account, ApiToken, User

ROOT = Path(__file__).resolve().parent.parent
BACKEND = os.environ.get("DOCKET_TEST_BACKEND", "embedded")
RUN_ID = uuid.uuid4().hex[:8]


def _create_pg_database(base_url, name):
    conn = psycopg2.connect(base_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def _drop_pg_database(base_url, name):
    conn = psycopg2.connect(base_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture(scope="session")
def services(tmp_path_factory):
    """Where this run's database and Redis are: embedded ones, or the machine's (a private database)."""
    if BACKEND == "embedded":
        folder = tmp_path_factory.mktemp("embedded")
        redis_server = EmbeddedRedis(folder / "redis.sock", persist=False).start()
        yield {
            "DATABASE_URL": f"sqlite:///{folder / 'docket.db'}",
            "REDIS_URL": redis_server.url,
            "redis": redis_server,
        }
        redis_server.stop()
    else:
        base = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
        name = f"docket_test_{RUN_ID}"
        _create_pg_database(base, name)
        url = base.rsplit("/", 1)[0] + "/" + name
        yield {"DATABASE_URL": url, "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")}
        database.close()
        _drop_pg_database(base, name)


@pytest.fixture(scope="session")
def settings(services):
    """The app's configuration for this run: private queue name, fast retries."""
    return {
        "ENV": "test",
        "TESTING": True,
        "DATABASE_URL": services["DATABASE_URL"],
        "REDIS_URL": services["REDIS_URL"],
        "QUEUE_NAME": f"docket-test-{RUN_ID}",
        "RULES_PATH": str(ROOT / "rules.yaml"),
        "INBOX_RETRY_BASE_SECONDS": 0.01,
        "WTF_CSRF_ENABLED": True,
    }


@pytest.fixture(scope="session")
def _schema(settings):
    app = create_app(settings)
    with app.app_context():
        migrate()
    return True


def empty_tables():
    """Delete every row of every table (the schema stays)."""
    with database.connection_context():
        if database.obj.__class__.__name__.startswith("Postgres"):
            names = ", ".join(f'"{m._meta.table_name}"' for m in MODELS)
            database.execute_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            with database.atomic():
                for model in reversed(MODELS):
                    model.delete().execute()


@pytest.fixture
def app(settings, _schema):
    """A fresh app on empty tables and an empty queue."""
    app = create_app(settings)
    empty_tables()
    with app.app_context():
        from webapp.queue import get_queue, redis_connection

        connection = redis_connection()
        get_queue(connection).empty()
        connection.delete(f"docket:{settings['QUEUE_NAME']}:drain-scheduled")
        yield app
    database.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def worker_env(settings):
    """The environment a worker process needs to share this run's database, Redis and queue."""
    env = dict(os.environ)
    env.update(
        DOCKET_ENV="test",
        DATABASE_URL=settings["DATABASE_URL"],
        REDIS_URL=settings["REDIS_URL"],
        DOCKET_QUEUE=settings["QUEUE_NAME"],
        RULES_PATH=settings["RULES_PATH"],
        INBOX_RETRY_BASE_SECONDS="0.01",
        PYTHONPATH=str(ROOT),
    )
    return env


@pytest.fixture
def run_worker(worker_env):
    """Run a real worker process in burst mode: it processes what is queued, then exits."""

    def run(timeout=120, env=None):
        result = subprocess.run(
            [sys.executable, "-m", "worker", "--burst"],
            cwd=ROOT,
            env={**worker_env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    return run


class AccountHandle:
    """An account with a coordinator and an API token, and a helper to call the API as them."""

    def __init__(self, client, account, user, token):
        self.client = client
        self.account = account
        self.user = user
        self.token = token

    @property
    def headers(self):
        return {"Authorization": f"Bearer {self.token}"}

    def post_event(self, envelope):
        return self.client.post("/api/events", json=envelope, headers=self.headers)

    def get(self, path, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def post(self, path, **kwargs):
        return self.client.post(path, headers=self.headers, **kwargs)

    def tasks(self, **params):
        """Every task the API lists for these parameters, following its `next` links page by page."""
        params.setdefault("assignee", "all")
        params.setdefault("status", "all")
        params.setdefault("limit", 200)
        response = self.get("/api/tasks", query_string=params)
        tasks = []
        while True:
            assert response.status_code == 200, response.get_json()
            body = response.get_json()
            tasks += body["tasks"]
            if not body["next"]:
                return tasks
            response = self.get(body["next"])


@pytest.fixture
def make_account(client):
    """make_account(name) -> AccountHandle whose user is an admin and the account's creator."""

    def make(name="Acme", email=None, password="correct horse battery"):
        from webapp.models import AccountCreator

        account = Account.create(name=name)
        slug = name.lower().replace(" ", "")
        user = User.for_email(account, email or f"coordinator@{slug}.test", "Casey Coordinator")
        user.set_password(password)
        user.is_admin = True
        user.save()
        AccountCreator.create(account=account, user=user)
        return AccountHandle(client, account, user, ApiToken.issue(user))

    return make
