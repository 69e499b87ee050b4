"""The admin page for ATS integrations: connect one (secrets are write-only), see its health, sync now."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..integrations.cli import save_integration
from ..integrations.sync import SYNCS, enqueue_sync
from ..models import Integration

bp = Blueprint("admin_integrations", __name__, url_prefix="/admin/integrations")

SECRET_HELP = {
    "greenhouse": "The secret key you typed into Greenhouse's web hook settings.",
    "lever": "The signature token Lever shows for each webhook event (several: separate them with commas).",
    "ashby": "The secret token you gave Ashby's webhook.",
}
API_KEY_HELP = {
    "greenhouse": "A Harvest API key (read access to jobs, job stages and users), for the sync every few minutes.",
    "lever": "A Lever API key (read access to opportunities, users, stages and postings), so that tasks name "
    "the candidate, their owner as coordinator, the stage and the job; webhooks alone carry only ids.",
}


@bp.before_request
@login_required
def _admins_only():
    if not current_user.is_admin:
        abort(403)


def _rows():
    connected = Integration.connected(current_user.account_id)
    return [
        {
            "provider": provider,
            "name": provider.capitalize(),
            "integration": connected.get(provider),
            "webhook_url": url_for(
                "webhooks.receive", provider=provider, key=current_user.account.webhook_key, _external=True
            ),
            "secret_help": SECRET_HELP[provider],
            "api_key_help": API_KEY_HELP.get(provider),
            "can_sync": provider in SYNCS,
        }
        for provider in Integration.PROVIDERS
    ]


@bp.get("")
def index():
    """The account's ATS integrations."""
    return render_template("admin/integrations.html", rows=_rows(), calendars=_calendar_rows())


@bp.post("/<provider>")
def save(provider):
    """Connect an ATS or replace its secrets; a blank field keeps the secret already saved."""
    if provider not in Integration.PROVIDERS:
        abort(404)
    secret = request.form.get("webhook_secret", "").strip()
    api_key = request.form.get("api_key", "").strip()
    existing = Integration.of(current_user.account_id, provider)
    if existing is None and not secret:
        flash(f"{provider.capitalize()}: a webhook secret is needed to connect.", "error")
        return redirect(url_for(".index"), 303)
    save_integration(current_user.account, provider, secret or None, api_key or None)
    flash(f"{provider.capitalize()} saved. Secrets are not shown again.", "success")
    return redirect(url_for(".index"), 303)


@bp.post("/<provider>/sync")
def sync_now(provider):
    """Queue a sync of the ATS now."""
    integration = Integration.of(current_user.account_id, provider)
    if integration is None or provider not in SYNCS:
        abort(404)
    if not integration.api_key:
        flash(f"{integration.display_name} needs an API key before it can sync.", "error")
    else:
        enqueue_sync(integration)
        flash(f"{integration.display_name} sync queued; changes appear in the task list shortly.", "success")
    return redirect(url_for(".index"), 303)


# -- Calendars: Google Calendar and Microsoft 365 ------------------------------------------------


def _calendar_rows():
    from ..models import CALENDAR_NAMES, CalendarWatch

    connected = Integration.connected(current_user.account_id)
    rows = []
    for provider, name in CALENDAR_NAMES.items():
        integration = connected.get(provider)
        watched = CalendarWatch.select().where(CalendarWatch.integration == integration).count() if integration else 0
        rows.append({"provider": provider, "name": name, "integration": integration, "watched": watched})
    return rows


@bp.post("/calendar/<provider>")
def save_calendar(provider):
    """Connect a calendar or replace its credentials (they are never shown again)."""
    from ..calendars.connect import ConnectError, google_credentials, microsoft_credentials
    from ..calendars.connect import save_calendar as save

    if provider not in Integration.CALENDAR_PROVIDERS:
        abort(404)
    form = request.form
    try:
        if provider == "google":
            key = request.files.get("service_account")
            key_json = form.get("service_account_json")
            if key and key.filename:
                key_json = key.read().decode("utf-8", "replace")
            credentials = google_credentials(
                key_json or None,
                form.get("domain", "").strip() or None,
                form.get("client_id", "").strip() or None,
                form.get("client_secret", "").strip() or None,
                form.get("refresh_token", "").strip() or None,
            )
        else:
            credentials = microsoft_credentials(
                form.get("tenant_id", "").strip(),
                form.get("client_id", "").strip(),
                form.get("client_secret", "").strip(),
            )
    except ConnectError as exc:
        flash(f"{provider_name(provider)}: {exc}.", "error")
        return redirect(url_for(".index"), 303)
    save(current_user.account, provider, credentials, current_user)
    flash(f"{provider_name(provider)} connected. Credentials are not shown again.", "success")
    return redirect(url_for(".index"), 303)


def provider_name(provider):
    from ..models import CALENDAR_NAMES

    return CALENDAR_NAMES.get(provider, provider.capitalize())


@bp.app_context_processor
def _broken_integrations():
    """`broken_integrations()` for the banner every user sees while an integration is broken."""

    def broken():
        # The session's user was loaded with the count of broken integrations: most pages
        # need no query for a banner that is rarely there.
        if not current_user.is_authenticated or not getattr(current_user, "failing_integrations", 1):
            return []
        return Integration.failing_of(current_user.account_id)

    return {"broken_integrations": broken}
