"""The CLI: connect an ATS (the webhook URL printed, the secret never), sync on demand."""

from webapp.models import Integration

from .test_harvest_sync import open_job, stages


def test_connect_prints_the_webhook_url_and_never_the_secret(runner, make_account):
    acme = make_account("Acme")
    result = runner.invoke(
        args=[
            "connect",
            "greenhouse",
            "--account",
            "Acme",
            "--webhook-secret",
            "s3cret-value",
            "--api-key",
            "k3y-value",
        ]
    )
    assert result.exit_code == 0, result.output
    assert f"/webhooks/greenhouse/{acme.account.webhook_key}" in result.output
    assert "s3cret-value" not in result.output and "k3y-value" not in result.output
    integration = Integration.of(acme.account, "greenhouse")
    assert integration.webhook_secret == "s3cret-value" and integration.api_key == "k3y-value"


def test_connecting_again_replaces_the_secret_and_keeps_the_api_key(runner, make_account):
    acme = make_account("Acme")
    runner.invoke(args=["connect", "lever", "--account", "Acme", "--webhook-secret", "one", "--api-key", "key"])
    runner.invoke(args=["connect", "lever", "--account", "Acme", "--webhook-secret", "two,three"])
    integration = Integration.of(acme.account, "lever")
    assert integration.webhook_secrets == ["two", "three"] and integration.api_key == "key"


def test_connect_refuses_an_unknown_account_or_provider(runner, make_account):
    make_account("Acme")
    assert runner.invoke(args=["connect", "greenhouse", "--account", "Nope", "--webhook-secret", "x"]).exit_code != 0
    assert runner.invoke(args=["connect", "workday", "--account", "Acme", "--webhook-secret", "x"]).exit_code != 0


def test_sync_runs_now_and_says_what_changed(app, runner, make_account, connect, harvest):
    connect(make_account("Acme"), "greenhouse", api_key="key")
    harvest.serve("/jobs", [open_job()])
    harvest.serve("/jobs/146218/stages", stages())
    result = runner.invoke(args=["sync", "greenhouse", "--account", "Acme"])
    assert result.exit_code == 0, result.output
    assert "synced 1 open job(s): no changes" in result.output


def test_sync_reports_a_refused_key(app, runner, make_account, connect, harvest):
    connect(make_account("Acme"), "greenhouse", api_key="key")
    harvest.serve("/jobs", {"message": "Invalid Basic Auth credentials"}, status=401)
    result = runner.invoke(args=["sync", "greenhouse", "--account", "Acme"])
    assert result.exit_code != 0 and "401" in result.output


def test_sync_needs_an_api_key(runner, make_account, connect):
    connect(make_account("Acme"), "greenhouse")
    result = runner.invoke(args=["sync", "greenhouse", "--account", "Acme"])
    assert result.exit_code != 0 and "--api-key" in result.output


def test_connect_lever_with_an_api_key_saves_it_and_says_what_it_is_for(runner, make_account):
    acme = make_account("Acme")
    result = runner.invoke(
        args=["connect", "lever", "--account", "Acme", "--webhook-secret", "tok-1,tok-2", "--api-key", "lever-k3y"]
    )
    assert result.exit_code == 0, result.output
    assert "lever-k3y" not in result.output and "tok-1" not in result.output
    assert "named through Lever's API" in result.output and "flask sync" not in result.output
    integration = Integration.of(acme.account, "lever")
    assert integration.api_key == "lever-k3y" and integration.webhook_secrets == ["tok-1", "tok-2"]
