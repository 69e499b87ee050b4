"""Notification settings (one's own on /account/profile; the team's Slack, for admins) and the
one-click unsubscribe link every e-mail carries (RFC 8058: its POST needs no sign-in nor CSRF token)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import notifications
from ..extensions import csrf
from ..models import NotificationSettings
from ..timezones import zone_of
from .auth import profile_page

bp = Blueprint("notifications", __name__)


@bp.app_template_global("notification_settings")
def notification_settings():
    """What the profile page shows of the signed-in person's notifications, and the team's for an admin."""
    account = current_user.account_id
    mine = NotificationSettings.of(account, current_user.id)
    rows, digest = notifications.choices_table(account, mine)
    shown = {"rows": rows, "digest": digest, "slack_webhook": notifications.webhook_hint(mine)}
    if current_user.is_admin:
        team = NotificationSettings.of(account)
        team_rows, team_digest = notifications.choices_table(account, team)
        shown["team"] = {
            "rows": team_rows,
            "digest": team_digest,
            "slack_webhook": notifications.webhook_hint(team),
        }
    shown["choices"] = notifications.CHOICES
    return shown


def _profile_with_error(error):
    return profile_page(zone_of(current_user).key, notify_errors={error.field: str(error)}), 422


@bp.post("/account/notifications")
@login_required
def save_mine():
    """Save the person's choices per category (e-mail and Slack) and their own Slack webhook."""
    try:
        notifications.save_settings(current_user.account_id, current_user.id, request.form)
    except notifications.SettingsError as error:
        return _profile_with_error(error)
    flash("Your notification settings are saved.", "info")
    return redirect(url_for("auth.profile"), 303)


@bp.post("/admin/notifications")
@login_required
def save_team():
    """Save the team's Slack webhook and what it is told, per category (admins only)."""
    if not current_user.is_admin:
        abort(403)
    try:
        notifications.save_settings(current_user.account_id, None, request.form, channels=(notifications.SLACK,))
    except notifications.SettingsError as error:
        return _profile_with_error(error)
    flash("The team's Slack settings are saved.", "info")
    return redirect(url_for("auth.profile"), 303)


@bp.get("/unsubscribe/<token>")
def unsubscribe_confirm(token):
    """Ask before unsubscribing: a mail scanner following the link changes nothing."""
    found = notifications.read_unsubscribe_token(token) or abort(404)
    user, category = found
    return render_template("notifications/unsubscribe.html", token=token, user=user, category=category, done=False)


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe(token):
    """Stop the e-mails the token names: the one-click POST of RFC 8058 (List-Unsubscribe=One-Click)."""
    found = notifications.read_unsubscribe_token(token) or abort(404)
    user, category = found
    notifications.unsubscribe(user, category)
    return render_template("notifications/unsubscribe.html", token=token, user=user, category=category, done=True)
