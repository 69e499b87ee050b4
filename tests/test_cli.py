"""The administration CLI, the configuration's guard on SECRET_KEY, and schema upgrades."""

import pytest
from playhouse.migrations import Runner

from webapp import create_app
from webapp.config import Config
from webapp.db import database, migrate
from webapp.models import Account, ApiToken, Event, Task, User


def test_create_account_prints_its_webhook_key(runner):
    result = runner.invoke(args=["create-account", "Acme"])
    assert result.exit_code == 0, result.output
    account = Account.get(Account.name == "Acme")
    assert account.webhook_key in result.output
    again = runner.invoke(args=["create-account", "Acme"])
    assert again.exit_code != 0 and "exists already" in again.output


def test_create_user_and_token_let_that_user_call_the_api(runner, client):
    runner.invoke(args=["create-account", "Acme"])
    result = runner.invoke(
        args=[
            "create-user",
            "Alex@Acme.test",
            "--account",
            "Acme",
            "--name",
            "Alex Kim",
            "--password",
            "s3cret pw",
            "--admin",
        ]
    )
    assert result.exit_code == 0, result.output
    user = User.get(User.email == "alex@acme.test")
    assert user.is_admin and user.check_password("s3cret pw") and user.name == "Alex Kim"
    token = runner.invoke(args=["create-token", "alex@acme.test"]).output.strip()
    assert ApiToken.user_for(token) == user
    assert client.get("/api/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_create_user_needs_an_existing_account(runner):
    result = runner.invoke(args=["create-user", "a@b.test", "--account", "Nope", "--name", "A"])
    assert result.exit_code != 0 and "no account named 'Nope'" in result.output


def test_demo_plays_its_events_through_the_pipeline_and_prints_passwords(runner, app, tmp_path):
    from webapp.pipeline import drain

    app.config["DEMO_CREDENTIALS_FILE"] = str(tmp_path / "demo-credentials.txt")
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    account = Account.get(Account.name == "Acme Demo")
    coordinators = list(User.select().where(User.account == account, User.password_hash.is_null(False)))
    assert len(coordinators) == 3
    assert all(user.email in result.output for user in coordinators)
    saved = (tmp_path / "demo-credentials.txt").read_text()
    assert all(user.email in saved for user in coordinators)
    assert Event.select().where(Event.account == account, Event.status == "pending").count() > 20
    drain()
    assert Event.select().where(Event.account == account, Event.status == "failed").count() == 0
    categories = {t.rule_id for t in Task.select().where(Task.account == account, Task.status == "open")}
    assert {
        "ready_to_schedule",
        "new_job",
        "interviewer_declined",
        "schedule_cancelled",
        "broken_integration",
    } <= categories
    assert runner.invoke(args=["demo", "--if-empty"]).output.startswith("demo data present")


def test_outside_development_the_app_refuses_to_start_without_a_secret_key():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Config({"DOCKET_ENV": "production"}).as_dict())
    settings = Config({"DOCKET_ENV": "production", "SECRET_KEY": "from-the-environment"}).as_dict()
    assert create_app(settings).config["SECRET_KEY"] == "from-the-environment"


def test_configuration_comes_from_the_environment():
    config = Config(
        {
            "DATABASE_URL": "postgresql://db/x",
            "REDIS_URL": "redis://r:6379/1",
            "PORT": "8080",
            "RULES_PATH": "/etc/docket/rules.yaml",
        }
    )
    assert (config.DATABASE_URL, config.REDIS_URL, config.PORT, config.RULES_PATH) == (
        "postgresql://db/x",
        "redis://r:6379/1",
        8080,
        "/etc/docket/rules.yaml",
    )
    embedded = Config({})
    assert embedded.DATABASE_URL.startswith("sqlite:///") and embedded.REDIS_URL.startswith("unix://")


def test_an_existing_database_upgrades_and_keeps_its_data(tmp_path, settings):
    """A database made by the first migration is upgraded by init-db with its rows intact."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app(dict(settings, DATABASE_URL=url))
    with app.app_context(), database.connection_context():
        runner = Runner(database.obj, directory=str(__import__("webapp").__path__[0] + "/migrations"))
        runner.up(target="0001_initial")
        database.execute_sql("INSERT INTO account (name, webhook_key, created_at) VALUES ('Old', 'k', '2026-01-01')")
        assert "application_move" not in database.get_tables()
        applied = migrate()
        assert applied and applied[0] != "0001_initial"
        assert "application_move" in database.get_tables()
        assert Account.get(Account.name == "Old").webhook_key == "k"
        assert migrate() == []


def test_the_demo_keeps_living_new_candidates_arrive_and_earlier_ones_get_scheduled(runner, app, tmp_path):
    from webapp.demo import DEMO_ACCOUNT, live_event
    from webapp.inbox import accept
    from webapp.pipeline import drain

    app.config["DEMO_CREDENTIALS_FILE"] = str(tmp_path / "demo-credentials.txt")
    runner.invoke(args=["demo"])
    account = Account.get(Account.name == DEMO_ACCOUNT)
    for n in range(3):
        event = live_event(account, n)
        accept(account, "docket", event["id"], event, type=event["type"], occurred_at=event["occurred_at"])
    drain()
    live = {t.key_values["application.id"]: t for t in Task.select().where(Task.key.contains("demo-live-app"))}
    assert live["demo-live-app-0"].status == "completed"
    assert live["demo-live-app-1"].status == "open"
