"""Connecting a calendar to an account (CLI and admin page): the credentials are checked for
shape, saved, and never shown again."""

from __future__ import annotations

import json

from ..models import Integration


class ConnectError(ValueError):
    """The credentials given cannot connect this calendar; the message says what is missing."""


def google_credentials(service_account_json=None, domain=None, client_id=None, client_secret=None, refresh_token=None):
    """Google credentials: a service account key (domain-wide delegation) or OAuth client + refresh token."""
    if service_account_json:
        try:
            info = json.loads(service_account_json)
        except ValueError:
            raise ConnectError("the service account key is not JSON (download it from Google Cloud as JSON)") from None
        missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
        if info.get("type") != "service_account" or missing:
            raise ConnectError(f"this is not a service account key (missing {', '.join(missing) or 'type'})")
        if not domain:
            raise ConnectError("name the Google Workspace domain whose calendars Docket may use (e.g. acme.com)")
        return {"type": "service_account", "service_account": info, "domain": domain.strip().lower()}
    if client_id and client_secret and refresh_token:
        return {
            "type": "oauth",
            "client_id": client_id.strip(),
            "client_secret": client_secret.strip(),
            "refresh_token": refresh_token.strip(),
            "domain": (domain or "").strip().lower() or None,
        }
    raise ConnectError("give a service account key and its domain, or an OAuth client id, secret and refresh token")


def microsoft_credentials(tenant_id=None, client_id=None, client_secret=None):
    """Microsoft 365 app credentials (client credentials flow)."""
    missing = [
        n for n, v in (("tenant id", tenant_id), ("client id", client_id), ("client secret", client_secret)) if not v
    ]
    if missing:
        raise ConnectError(f"Microsoft 365 needs a {', '.join(missing)}")
    return {"tenant_id": tenant_id.strip(), "client_id": client_id.strip(), "client_secret": client_secret.strip()}


def save_calendar(account, provider, credentials, owner=None):
    """Connect (or reconnect) a calendar; reconnecting ends nothing by itself: the next success does."""
    integration = Integration.of(account, provider)
    if integration is None:
        integration = Integration(account=account, provider=provider)
    integration.kind = "calendar"
    integration.credentials = credentials
    if owner is not None:
        integration.owner_email = owner.email
    integration.next_sync_at = None  # maintain soon: watches, and a success that restores a broken one
    integration.save()
    return integration


def connect_from_cli(
    account,
    provider,
    service_account=None,
    domain=None,
    tenant_id=None,
    client_id=None,
    client_secret=None,
    refresh_token=None,
    owner=None,
):
    """`flask connect google|microsoft …`: save the credentials and say what happens next."""
    import click

    from ..models import User

    try:
        if provider == "google":
            credentials = google_credentials(
                service_account.read() if service_account else None, domain, client_id, client_secret, refresh_token
            )
        else:
            credentials = microsoft_credentials(tenant_id, client_id, client_secret)
    except ConnectError as exc:
        raise click.UsageError(str(exc)) from None
    owner_user = User.for_email(account, owner) if owner else None
    integration = save_calendar(account, provider, credentials, owner_user)
    click.echo(f"{integration.display_name} connected to {account.name}.")
    click.echo(
        "Schedules' events now go on organizers' calendars; Docket watches those calendars "
        "(a worker must be running). Secrets are not shown again."
    )
