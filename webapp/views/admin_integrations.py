"""The admin page for ATS integrations: connect one (secrets are write-only), see its health, sync now."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..forms import CalendarForm, IntegrationForm
from ..integrations.cli import save_integration
from ..integrations.sync import SYNCS, enqueue_sync
from ..models import Integration, Task

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


def _failures():
    """The open Broken Integration task of each integration, to say since when it fails."""
    return Task.open_broken_integrations(current_user.account_id)


def _rows(posted=None, failures=None):
    """Each ATS with its form: the one just posted (with its errors) or a blank one."""
    connected = Integration.connected(current_user.account_id)
    failures = _failures() if failures is None else failures
    return [
        {
            "provider": provider,
            "form": posted
            if posted is not None and posted.provider == provider
            else IntegrationForm(provider, provider in connected, formdata=None),
            "name": provider.capitalize(),
            "integration": connected.get(provider),
            "failure": failures.get(str(connected[provider].id)) if provider in connected else None,
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
    failures = _failures()
    return render_template("admin/integrations.html", rows=_rows(failures=failures), calendars=_calendar_rows(failures))


@bp.post("/<provider>")
def save(provider):
    """Connect an ATS or replace its secrets; a blank field keeps the secret already saved."""
    if provider not in Integration.PROVIDERS:
        abort(404)
    form = IntegrationForm(provider, Integration.of(current_user.account_id, provider) is not None)
    if not form.validate_on_submit():
        page = render_template("admin/integrations.html", rows=_rows(form), calendars=_calendar_rows())
        return page, 422
    save_integration(current_user.account, provider, form.webhook_secret.data or None, form.api_key.data or None)
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


def _calendar_rows(failures=None):
    from ..models import CALENDAR_NAMES, CalendarWatch

    connected = Integration.connected(current_user.account_id)
    failures = _failures() if failures is None else failures
    rows = []
    for provider, name in CALENDAR_NAMES.items():
        integration = connected.get(provider)
        watched = CalendarWatch.select().where(CalendarWatch.integration == integration).count() if integration else 0
        failure = failures.get(str(integration.id)) if integration else None
        rows.append(
            {"provider": provider, "name": name, "integration": integration, "watched": watched, "failure": failure}
        )
    return rows


@bp.post("/calendar/<provider>")
def save_calendar(provider):
    """Connect a calendar or replace its credentials (they are never shown again)."""
    from ..calendars.connect import ConnectError, google_credentials, microsoft_credentials
    from ..calendars.connect import save_calendar as save

    if provider not in Integration.CALENDAR_PROVIDERS:
        abort(404)
    form = CalendarForm()
    try:
        if provider == "google":
            credentials = google_credentials(
                form.key_json,
                form.domain.data or None,
                form.client_id.data or None,
                form.client_secret.data or None,
                form.refresh_token.data or None,
            )
        else:
            credentials = microsoft_credentials(form.tenant_id.data, form.client_id.data, form.client_secret.data)
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
