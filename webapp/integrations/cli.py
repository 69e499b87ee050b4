"""CLI for integrations: `flask --app wsgi connect PROVIDER ...` and `flask --app wsgi sync PROVIDER ...`."""

import os

import click
from flask import current_app

from ..cli_support import account_named
from ..models import Integration


def public_url():
    """Where vendors reach this Docket: PUBLIC_URL (or DOCKET_PUBLIC_URL), else the development server."""
    configured = current_app.config.get("PUBLIC_URL") or os.environ.get("DOCKET_PUBLIC_URL")
    return (configured or f"http://localhost:{current_app.config.get('PORT', 5000)}").rstrip("/")


def webhook_url(integration, base=None):
    """The URL to paste into the vendor's webhook settings."""
    return f"{(base or public_url()).rstrip('/')}/webhooks/{integration.provider}/{integration.account.webhook_key}"


# What an ATS's API key is for, as `connect` says once it is saved.
API_KEY_USES = {
    "greenhouse": "the sync runs every few minutes (or now with `flask sync`).",
    "lever": "webhooks are named through Lever's API (candidates, owners, stages, postings).",
}


def save_integration(account, provider, webhook_secret=None, api_key=None):
    """Connect an ATS (or replace the secrets given); secrets left out are kept as they were."""
    integration = Integration.of(account, provider)
    if integration is None:
        integration = Integration(account=account, provider=provider)
    if webhook_secret:
        integration.webhook_secret = webhook_secret.strip()
    if api_key:
        integration.api_key = api_key.strip()
        integration.next_sync_at = None  # sync soon with the new key
    integration.save()
    return integration


@click.command("connect")
@click.argument("provider", type=click.Choice(Integration.PROVIDERS + Integration.CALENDAR_PROVIDERS))
@click.option("--account", "account_name", required=True, help="The account's name.")
@click.option(
    "--webhook-secret",
    default=None,
    help="ATS: the secret the vendor signs webhooks with (Lever: its signature tokens, comma-separated).",
)
@click.option(
    "--api-key",
    default=None,
    help="Greenhouse: a Harvest key, for the periodic sync. Lever: an API key, to name the candidates, "
    "owners, stages and postings its webhooks give only ids for.",
)
@click.option("--service-account", type=click.File("r"), default=None, help="Google: the service account's JSON key.")
@click.option("--domain", default=None, help="Google: the Workspace domain the service account may act for.")
@click.option("--tenant-id", default=None, help="Microsoft 365: the directory (tenant) id.")
@click.option("--client-id", default=None, help="Microsoft 365: the app's client id (Google: an OAuth client id).")
@click.option("--client-secret", default=None, help="Microsoft 365: a client secret (Google: the OAuth client secret).")
@click.option("--refresh-token", default=None, help="Google with OAuth instead of a service account: a refresh token.")
@click.option("--owner", default=None, help="Calendars: the e-mail of who looks after this integration.")
def connect(provider, account_name, webhook_secret, api_key, **calendar):
    """Connect an ATS (printing the webhook URL to paste into it) or a calendar; secrets are not shown again."""
    if provider in Integration.CALENDAR_PROVIDERS:
        from ..calendars.connect import connect_from_cli

        connect_from_cli(account_named(account_name), provider, **calendar)
        return
    if not webhook_secret:
        raise click.UsageError("an ATS needs --webhook-secret")
    integration = save_integration(account_named(account_name), provider, webhook_secret, api_key)
    click.echo(f"{integration.display_name} connected to {integration.account.name}.")
    click.echo(f"Webhook URL: {webhook_url(integration)}")
    if api_key and provider in API_KEY_USES:
        click.echo(f"API key saved; {API_KEY_USES[provider]}")


@click.command("sync")
@click.argument("provider", type=click.Choice(["greenhouse"]))
@click.option("--account", "account_name", required=True, help="The account's name.")
@click.option("--queue", "use_queue", is_flag=True, help="Queue the sync for a worker instead of running it here.")
def sync(provider, account_name, use_queue):
    """Sync an ATS now: new and removed stages and interviews, job coordinators."""
    from .harvest import HarvestError
    from .sync import enqueue_sync, run_sync

    integration = Integration.of(account_named(account_name), provider)
    if integration is None or not integration.api_key:
        raise click.ClickException(f"{provider} has no API key for {account_name}: connect it with --api-key")
    if use_queue:
        job = enqueue_sync(integration)
        click.echo(f"sync queued ({job.id})")
        return
    try:
        summary = run_sync(integration.id)
    except HarvestError as exc:
        raise click.ClickException(str(exc)) from None
    if summary["status"] != "ok":
        raise click.ClickException(f"sync failed: {Integration.get_by_id(integration.id).last_error}")
    events = ", ".join(summary["events"]) or "no changes"
    click.echo(f"synced {summary['jobs']} open job(s): {events}")
