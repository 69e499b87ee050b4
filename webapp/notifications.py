"""Telling people about their tasks: an e-mail (and Slack post) at once for urgent tasks, and a daily
digest at 7:30 in each person's zone, as each chose per category. Messages are rows of an outbox
(models.Notification) recorded in the transaction that made their reason, and sent by a worker
through SMTP_URL or a Slack incoming webhook, never from a web request; a failed send is retried
with backoff, and a sent one is never sent again."""

import datetime as dt
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import redis
import requests
from flask import current_app, render_template
from itsdangerous import BadSignature, URLSafeSerializer
from peewee import fn

from .models import PRIORITIES, Absence, Account, Notification, NotificationSettings, Task, User, insert_row, utcnow
from .queue import get_queue, redis_connection
from .rulebook.current import rulebook_for
from .timezones import default_zone_name, is_zone, zone_of

log = logging.getLogger(__name__)

IMMEDIATE, DIGEST, NONE = "immediate", "digest", "none"
CHOICES = (IMMEDIATE, DIGEST, NONE)
EMAIL, SLACK = "email", "slack"
CHANNELS = (EMAIL, SLACK)
URGENT = "urgent"
# The digest itself, as a "category" one can unsubscribe from: digest (sent) or none.
DAILY_DIGEST = "Daily digest"

# A claimed message is someone's to send for this long; a worker that dies sending leaves it to
# be tried again after that.
CLAIM_SECONDS = 120
MAX_BACKOFF_SECONDS = 3600
SEND_TIMEOUT_SECONDS = 10
DIGEST_LINES = 100  # tasks listed in one digest; the rest are counted
SEND_FLAG_TTL_SECONDS = 5
SEND_JOB = "worker.jobs.send_notifications"
UNSUBSCRIBE_SALT = "docket-unsubscribe"


class SettingsError(ValueError):
    """A choice or Slack URL that cannot be saved; `field` names the form field."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


# -- what each person wants ---------------------------------------------------------


def categories_of(account):
    """[(category, can be urgent)] of the account's rulebook in force, in rule order."""
    found = {}
    for rule in rulebook_for(account).rules:
        found[rule.category] = found.get(rule.category, False) or rule.urgent is not None
    return list(found.items())


def default_choice(urgent_capable):
    """Immediate for a category the rulebook can mark urgent, else the digest."""
    return IMMEDIATE if urgent_capable else DIGEST


def choice_of(settings, channel, category, urgent_capable):
    """What a person (or team) chose for a category on a channel, or its default."""
    chosen = ((settings.choices if settings else None) or {}).get(channel, {}).get(category)
    if category == DAILY_DIGEST:
        return chosen if chosen in (DIGEST, NONE) else DIGEST
    return chosen if chosen in CHOICES else default_choice(urgent_capable)


def webhook_hint(settings):
    """How the settings page names a saved webhook without showing it (a webhook URL is a secret):
    its last four characters, or "" when none is saved."""
    url = settings.slack_webhook_url if settings else None
    return f"…{url[-4:]}" if url else ""


def choices_table(account, settings):
    """The settings page's rows: [{category, urgent, email, slack}] and the digest's own row."""
    rows = [
        {
            "category": category,
            "urgent": urgent,
            EMAIL: choice_of(settings, EMAIL, category, urgent),
            SLACK: choice_of(settings, SLACK, category, urgent),
        }
        for category, urgent in categories_of(account)
    ]
    digest = {ch: choice_of(settings, ch, DAILY_DIGEST, False) for ch in CHANNELS}
    return rows, digest


def slack_url_ok(url):
    """Whether a Slack incoming-webhook URL points where Slack's do (SLACK_WEBHOOK_BASE)."""
    base = current_app.config["SLACK_WEBHOOK_BASE"]
    parts, allowed = urlsplit(url), urlsplit(base)
    return (
        url.startswith(base)
        and len(url) <= 500
        and parts.scheme == allowed.scheme
        and parts.scheme in ("https", "http")
        and parts.hostname == allowed.hostname  # not hooks.slack.com.elsewhere
        and parts.port == allowed.port
        and not parts.username
        and bool(parts.path.strip("/"))
    )


def save_settings(account, user, form, channels=CHANNELS):
    """Save a person's (user None: the team's) choices and Slack URL from a posted form; raises
    SettingsError for a value that cannot be kept. Form fields: `<channel>:<category>`, `slack_webhook_url`
    (a new webhook; empty keeps the one saved, which is never shown again) and `remove_slack`."""
    choices = {}
    for channel in channels:
        chosen = {}
        for category, _ in [*categories_of(account), (DAILY_DIGEST, False)]:
            value = form.get(f"{channel}:{category}")
            if value is None:
                continue
            allowed = (DIGEST, NONE) if category == DAILY_DIGEST else CHOICES
            if value not in allowed:
                raise SettingsError(f"{channel}:{category}", f"Choose {', '.join(allowed)} for {category}.")
            chosen[category] = value
        choices[channel] = chosen
    url = (form.get("slack_webhook_url") or "").strip()
    if url and not slack_url_ok(url):
        raise SettingsError(
            "slack_webhook_url", "Use a Slack incoming-webhook URL (https://hooks.slack.com/services/…)."
        )
    settings = NotificationSettings.of(account, user)
    if settings is None:
        settings = NotificationSettings(account=account, user=user, choices={})
    saved = settings.choices or {}
    settings.choices = {**saved, **{ch: {**saved.get(ch, {}), **chosen} for ch, chosen in choices.items()}}
    if url:
        settings.slack_webhook_url = url
    elif form.get("remove_slack") == "1":
        settings.slack_webhook_url = None
    settings.updated_at = utcnow()
    settings.save()
    return settings


# -- unsubscribing (RFC 8058) ---------------------------------------------------------


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user, category):
    """A signed token that stops one person's e-mails of one category (or the digest)."""
    return _serializer().dumps([user.id, category])


def unsubscribe_url(user, category):
    return f"{current_app.config['BASE_URL']}/unsubscribe/{unsubscribe_token(user, category)}"


def read_unsubscribe_token(token):
    """(user, category) a token names, or None when it is not one of ours or its user is gone."""
    try:
        user_id, category = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    user = User.get_or_none(User.id == user_id)
    return (user, category) if user is not None and isinstance(category, str) else None


def unsubscribe(user, category):
    """Stop the person's e-mails of the category (none), or the digest; Slack posts are unchanged."""
    settings = NotificationSettings.of(user.account_id, user)
    if settings is None:
        settings = NotificationSettings(account=user.account_id, user=user, choices={})
    choices = dict(settings.choices or {})
    choices[EMAIL] = {**choices.get(EMAIL, {}), category: NONE}
    settings.choices = choices
    settings.updated_at = utcnow()
    settings.save()


# -- recording: what the pipeline writes in the batch's transaction --------------------


def urgent_rows(account_id, task_id, user_id):
    """The outbox rows of an urgent task just opened: e-mail and Slack to its assignee, and the
    team's Slack. Whether each is wanted is decided when it is sent (a row nobody wants is skipped)."""
    rows = []
    if user_id is not None:
        for channel in CHANNELS:
            rows.append((channel, user_id, f"urgent:{channel}:u{user_id}:t{task_id}"))
    rows.append((SLACK, None, f"urgent:{SLACK}:a{account_id}:t{task_id}"))
    now = utcnow()
    return [
        dict(
            account=account_id,
            user=user,
            task=task_id,
            channel=channel,
            kind=URGENT,
            dedupe_key=key,
            next_attempt_at=now,
            created_at=now,
        )
        for channel, user, key in rows
    ]


# -- the daily digest ---------------------------------------------------------------


def digest_time():
    hours, minutes = (current_app.config.get("DIGEST_TIME") or "07:30").split(":")
    return dt.time(int(hours), int(minutes))


def schedule_digests(now=None):
    """Record today's digest for everyone whose 7:30 has come in their zone and who has open tasks,
    and the team Slack digest of accounts that have one; each once a day, however many sweeps run
    (the outbox's unique key). Returns how many were recorded."""
    now = now or utcnow()
    at = digest_time()
    default = default_zone_name()
    zones = {}
    people = User.select(User.id, User.account, User.time_zone).where(User.disabled_at.is_null())
    # Nobody away (out of office) gets a digest: their day's tasks are their backup's.
    away = set(Absence.select(Absence.user).where(Absence.starts_at <= now, Absence.ends_at > now).tuples())
    for user in people:
        if (user.id,) in away:
            continue
        name = user.time_zone if is_zone(user.time_zone) else default
        zones.setdefault(name, []).append(user.id)
    recorded = 0
    for name, ids in zones.items():
        local = now.astimezone(ZoneInfo(name))
        if local.time() < at:
            continue
        day = local.date().isoformat()
        for user_id, account_id in _due_for_digest(ids, day):
            recorded += _record_digest(account_id, user_id, EMAIL, day, now)
            if _has_slack(account_id, user_id):
                recorded += _record_digest(account_id, user_id, SLACK, day, now)
    local = now.astimezone(ZoneInfo(default))
    if local.time() >= at:
        day = local.date().isoformat()
        teams = NotificationSettings.select(NotificationSettings.account).where(
            NotificationSettings.user.is_null() & NotificationSettings.slack_webhook_url.is_null(False)
        )
        for team in teams:
            recorded += _record_digest(team.account_id, None, SLACK, day, now)
    return recorded


def _due_for_digest(user_ids, day):
    """(user id, account id) of these people with open tasks and no digest recorded for `day`."""
    has_open = Task.select(Task.id).where(
        (Task.account == User.account) & (Task.assignee == User.id) & (Task.status == Task.OPEN)
    )
    recorded = Notification.select(Notification.id).where(
        (Notification.user == User.id) & (Notification.kind == DIGEST) & (Notification.day == day)
    )
    query = User.select(User.id, User.account).where(User.id.in_(user_ids) & fn.EXISTS(has_open) & ~fn.EXISTS(recorded))
    return list(query.tuples())


def _has_slack(account_id, user_id):
    settings = NotificationSettings.of(account_id, user_id)
    return bool(settings and settings.slack_webhook_url)


def _record_digest(account_id, user_id, channel, day, now):
    who = f"u{user_id}" if user_id is not None else f"a{account_id}"
    row = insert_row(
        Notification,
        unique=["dedupe_key"],
        account=account_id,
        user=user_id,
        channel=channel,
        kind=DIGEST,
        day=day,
        dedupe_key=f"digest:{channel}:{who}:{day}",
        next_attempt_at=now,
        created_at=now,
    )
    return 1 if row is not None else 0


def digest_sections(tasks, zone, now):
    """The digest's tasks by urgency: [(heading, tasks)] for overdue, due today, and the rest, each
    soonest due first (then most urgent, then oldest); empty sections left out."""
    end_of_today = dt.datetime.combine(now.astimezone(zone).date() + dt.timedelta(days=1), dt.time(0), zone)
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    ordered = sorted(tasks, key=lambda t: (t.due_at or far, PRIORITIES.index(t.priority), t.created_at, t.id))
    sections = {"Overdue": [], "Due today": [], "The rest": []}
    for task in ordered:
        if task.due_at is not None and task.due_at < now:
            sections["Overdue"].append(task)
        elif task.due_at is not None and task.due_at < end_of_today:
            sections["Due today"].append(task)
        else:
            sections["The rest"].append(task)
    return [(heading, listed) for heading, listed in sections.items() if listed]


# -- sending ------------------------------------------------------------------------


class SendError(Exception):
    """A message could not be handed over (SMTP or Slack refused or did not answer)."""


def request_send(connection=None):
    """Ask a worker to send the outbox's due messages (one job however many ask); False without Redis.
    The sweep asks again for anything a lost request leaves."""
    try:
        conn = connection or redis_connection()
        if conn.set(_send_flag(), 1, nx=True, ex=SEND_FLAG_TTL_SECONDS):
            get_queue(conn).enqueue(SEND_JOB, job_timeout=600, result_ttl=0, failure_ttl=3600)
        return True
    except redis.RedisError as exc:
        log.warning("could not ask a worker to send notifications: %s", exc)
        return False


def _send_flag():
    return f"docket:{current_app.config['QUEUE_NAME']}:send-scheduled"


def clear_send_flag():
    """Called as a send job starts, so that messages recorded during it ask for another."""
    try:
        redis_connection().delete(_send_flag())
    except redis.RedisError:
        pass  # the flag expires within seconds anyway


def _due(now):
    """The outbox's messages to send now; without SMTP_URL, e-mails wait (not tried, not failed)."""
    due = (Notification.status == Notification.PENDING) & (Notification.next_attempt_at <= now)
    return due if current_app.config["SMTP_URL"] else due & (Notification.channel != EMAIL)


def has_due():
    """Whether some message of the outbox waits to be sent now."""
    return Notification.select(Notification.id).where(_due(utcnow())).limit(1).exists()


def send_due(batch=50):
    """Send every message of the outbox that is due, each claimed first so that no two workers send
    one; returns {status: count} of what was done."""
    done = {}
    now = utcnow()  # what is due when it starts: a message put off by a failure waits for the next run
    while True:
        rows = list(
            Notification.select().where(_due(now)).order_by(Notification.next_attempt_at, Notification.id).limit(batch)
        )
        if not rows:
            return done
        for row in rows:
            if _claim(row, now):
                status = _send(row)
                done[status] = done.get(status, 0) + 1


def _claim(row, now):
    """Take the message for this worker (for CLAIM_SECONDS from now, not from when the run began: a
    long run would take messages already free for another): False when another took it first."""
    lease = utcnow() + dt.timedelta(seconds=CLAIM_SECONDS)
    claimed = (
        Notification.update(attempts=Notification.attempts + 1, next_attempt_at=lease)
        .where(
            (Notification.id == row.id)
            & (Notification.status == Notification.PENDING)
            & (Notification.next_attempt_at <= now)
        )
        .execute()
    )
    row.attempts += 1
    return claimed == 1


def _send(row):
    """Deliver one claimed message and record how it went: sent, skipped (nobody wants it any more)
    or, after a failure, pending again with a later try (failed once NOTIFY_MAX_ATTEMPTS are spent)."""
    try:
        message = compose(row)
    except Exception as exc:  # a message that cannot be written (a template's fault) must not hold up the rest
        log.exception("notification %s could not be written", row.id)
        return _retry_later(row, f"could not write the message: {exc.__class__.__name__}: {exc}")
    if message is None:
        return _finish(row, Notification.SKIPPED)
    try:
        deliver(row, message)
    except SendError as exc:
        return _retry_later(row, str(exc))
    return _finish(row, Notification.SENT)


def _retry_later(row, error):
    """Put a failed message off (twice as long each time, at most an hour), or give it up as failed,
    kept with its error, once NOTIFY_MAX_ATTEMPTS are spent."""
    config = current_app.config
    if row.attempts >= config["NOTIFY_MAX_ATTEMPTS"]:
        return _finish(row, Notification.FAILED, error)
    wait = min(config["NOTIFY_RETRY_BASE_SECONDS"] * 2 ** (row.attempts - 1), MAX_BACKOFF_SECONDS)
    Notification.update(last_error=error[:2000], next_attempt_at=utcnow() + dt.timedelta(seconds=wait)).where(
        Notification.id == row.id
    ).execute()
    log.warning("notification %s not sent (attempt %s, next in %ss): %s", row.id, row.attempts, wait, error)
    return "retrying"


def _finish(row, status, error=None):
    Notification.update(status=status, sent_at=utcnow(), last_error=error).where(Notification.id == row.id).execute()
    return status


# -- composing ----------------------------------------------------------------------


def compose(row):
    """What a message says and where it goes, or None when nobody wants it (any more): for e-mail
    an EmailMessage, for Slack (url, text)."""
    account = Account.get_by_id(row.account_id)
    user = User.get_or_none(User.id == row.user_id) if row.user_id is not None else None
    if row.user_id is not None and (user is None or not user.is_active):
        return None
    settings = NotificationSettings.of(account, user)
    if row.channel == SLACK and not (settings and settings.slack_webhook_url):
        return None
    urgent = dict(categories_of(account))
    if row.kind == URGENT:
        task = Task.get_or_none(Task.id == row.task_id)
        if task is None or task.status != Task.OPEN:
            return None
        if row.user_id is not None and task.assignee_id != row.user_id:
            return None  # handed to someone else since: it is no longer this person's to act on
        if choice_of(settings, row.channel, task.category, urgent.get(task.category, False)) != IMMEDIATE:
            return None
        return _urgent_message(row, user, settings, task)
    if choice_of(settings, row.channel, DAILY_DIGEST, False) == NONE:
        return None
    wanted = {
        category
        for category in {c for c, _ in urgent.items()} | _open_categories(account, user)
        if choice_of(settings, row.channel, category, urgent.get(category, False)) != NONE
    }
    query = Task.select().where((Task.account == account) & (Task.status == Task.OPEN) & Task.category.in_(wanted))
    if user is not None:
        query = query.where(Task.assignee == user)
    total = query.count() if wanted else 0
    if not total:
        return None
    # The soonest due first, as digest_sections orders them: the first DIGEST_LINES are listed.
    tasks = list(query.order_by(Task.due_at, Task.priority_rank, Task.created_at, Task.id).limit(DIGEST_LINES))
    return _digest_message(row, user, settings, tasks, total)


def _open_categories(account, user):
    """Categories of open tasks whose rule the rulebook in force may no longer have."""
    query = Task.select(Task.category).where((Task.account == account) & (Task.status == Task.OPEN))
    if user is not None:
        query = query.where(Task.assignee == user)
    return {category for (category,) in query.distinct().tuples()}


def task_url(task):
    return f"{current_app.config['BASE_URL']}/tasks/{task.id}"


def _urgent_message(row, user, settings, task):
    context = {"task": task, "task_url": task_url(task), "user": user, "zone": zone_of(user) if user else None}
    if row.channel == SLACK:
        text = f"Urgent · {task.category}: <{task_url(task)}|{_slack_escape(task.title)}>"
        if task.recommended_action:
            text += f"\n{_slack_escape(task.recommended_action)}"
        return settings.slack_webhook_url, text
    unsubscribe = unsubscribe_url(user, task.category)
    context.update(unsubscribe_url=unsubscribe, category=task.category)
    return _email(
        row,
        user,
        f"Urgent: {task.title}",
        render_template("notifications/urgent.txt", **context),
        render_template("notifications/urgent.html", **context),
        unsubscribe,
    )


def _digest_message(row, user, settings, tasks, total):
    zone = zone_of(user) if user is not None else ZoneInfo(default_zone_name())
    context = {
        "sections": digest_sections(tasks, zone, utcnow()),
        "count": total,
        "more": total - len(tasks),
        "user": user,
        "zone": zone,
        "task_url": task_url,
        "list_url": f"{current_app.config['BASE_URL']}/tasks",
        "day": row.day,
    }
    if row.channel == SLACK:
        lines = [f"Docket digest for {row.day}: {total} open task{'s' if total != 1 else ''}"]
        for heading, section in context["sections"]:
            lines.append(f"*{heading}*")
            lines += [f"• <{task_url(t)}|{_slack_escape(t.title)}>" for t in section]
        if context["more"]:
            lines.append(f"and {context['more']} more: {context['list_url']}")
        return settings.slack_webhook_url, "\n".join(lines)
    unsubscribe = unsubscribe_url(user, DAILY_DIGEST)
    context["unsubscribe_url"] = unsubscribe
    subject = f"Your Docket digest: {total} open task{'s' if total != 1 else ''}"
    return _email(
        row,
        user,
        subject,
        render_template("notifications/digest.txt", **context),
        render_template("notifications/digest.html", **context),
        unsubscribe,
    )


def _email(row, user, subject, text, html, unsubscribe):
    message = EmailMessage()
    # Header values on one line: a title or name with a line break must not add a header.
    message["Subject"] = " ".join(subject.split())
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = formataddr((" ".join(user.name.split()), user.email))
    # The same id on every attempt, so that a message resent after a lost answer is known for one.
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "docket"
    message["Message-ID"] = f"<notification-{row.id}@{host}>"
    message["List-Unsubscribe"] = f"<{unsubscribe}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _slack_escape(text):
    """Slack's mrkdwn: &, < and > written as entities, so a title cannot make a link or a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- delivering ---------------------------------------------------------------------


def deliver(row, message):
    """Hand the message over; raises SendError when it was not taken."""
    if row.channel == SLACK:
        url, text = message
        try:
            answer = requests.post(url, json={"text": text}, timeout=SEND_TIMEOUT_SECONDS, allow_redirects=False)
        except requests.RequestException as exc:
            raise SendError(f"Slack did not answer: {exc.__class__.__name__}") from exc
        if answer.status_code != 200:
            raise SendError(f"Slack answered {answer.status_code}: {answer.text[:200]}")
        return
    send_email(message)


def smtp_settings(url):
    """(host, port, user, password, ssl, starttls) from smtp://user:pass@host:port, smtps://…, `?starttls=1`."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise SendError("SMTP_URL must look like smtp://user:password@host:port (or smtps://)")
    secure = parts.scheme == "smtps"
    starttls = parse_qs(parts.query).get("starttls", ["0"])[0] in ("1", "true", "yes")
    port = parts.port or (465 if secure else 587 if starttls else 25)
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return parts.hostname, port, user, password, secure, starttls


def send_email(message):
    """Send one e-mail through SMTP_URL; raises SendError when the server is not reached or refuses."""
    url = current_app.config["SMTP_URL"]
    if not url:
        raise SendError("SMTP_URL is not set")
    host, port, user, password, secure, starttls = smtp_settings(url)
    try:
        if secure:
            client = smtplib.SMTP_SSL(host, port, timeout=SEND_TIMEOUT_SECONDS, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=SEND_TIMEOUT_SECONDS)
        with client:
            if starttls:
                client.starttls(context=ssl.create_default_context())
            if user:
                client.login(user, password or "")
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"SMTP: {exc.__class__.__name__}: {exc}") from exc
