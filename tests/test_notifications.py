"""Notifications: urgent tasks e-mailed at once and a daily digest at 7:30 in each person's zone, as
each chose per category, sent by the worker to a real SMTP server (aiosmtpd) and to a fake Slack
webhook; one-click unsubscribe (RFC 8058); a failed send is retried and never sent twice."""

import datetime as dt
import textwrap
import threading
import time

import pytest

from tests import events as ev
from tests.helpers import csrf_from, process, sign_in, sign_in_coordinator
from tests.smtp import SlackWebhook, SMTPServer, free_port
from webapp import notifications
from webapp.db import database
from webapp.models import Absence, Notification, NotificationSettings, Task, User, utcnow
from webapp.rules import RulebookError, load_rulebook
from webapp.rules.engine import is_urgent, normalise_event
from worker.jobs import send_notifications, sweep

BASE_URL = "https://docket.example"
# A Thursday, 7:30 in New York.
FROZEN = dt.datetime(2026, 12, 10, 12, 30, tzinfo=dt.UTC)


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def _declined(now, starts_in, name="Dana Wu", schedule_id="sched-1"):
    """An interviewer declining, at `now`, an interview that starts `starts_in` later."""
    attendee = {"email": "dana.wu@acme.test", "name": name, "kind": "interviewer"}
    envelope = ev.responded(attendee, "declined", schedule={"id": schedule_id, "starts_at": _iso(now + starts_in)})
    return dict(envelope, occurred_at=_iso(now))


def _at(envelope, moment):
    return dict(envelope, occurred_at=_iso(moment))


def _parts(message):
    """(plain text, HTML) of a received message."""
    return (
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    )


@pytest.fixture
def acme(make_account, app):
    app.config.update(BASE_URL=BASE_URL, NOTIFY_RETRY_BASE_SECONDS=0.01)
    return make_account("Acme")


# -- the rulebook says what is urgent -----------------------------------------------------

URGENT_RULE = """\
version: 1
rules:
  - id: interviewer_declined
    category: Interviewer Declined
    event: attendee.responded
    key: [schedule.id, attendee.email]
    assignee: [candidate.coordinator]
    urgent: {before: schedule.starts_at, within: 24h}
    title: "{{ attendee.email }} declined"
    action: "Replace them"
"""


def test_urgent_is_always_or_when_the_event_comes_close_to_a_time_and_bad_values_say_where():
    rule = load_rulebook(URGENT_RULE).rules[0]
    now = ev.BASE_TIME
    assert is_urgent(rule.urgent, normalise_event(_declined(now, dt.timedelta(hours=23))))
    assert not is_urgent(rule.urgent, normalise_event(_declined(now, dt.timedelta(hours=25))))
    always = load_rulebook(URGENT_RULE.replace("{before: schedule.starts_at, within: 24h}", "true")).rules[0]
    assert is_urgent(always.urgent, normalise_event(_declined(now, dt.timedelta(days=9))))
    assert (
        load_rulebook(URGENT_RULE.replace("    urgent: {before: schedule.starts_at, within: 24h}\n", ""))
        .rules[0]
        .urgent
        is None
    )

    for value, problem in (
        ("soon", "rules.yaml:8:13: rules[0].urgent: expected true, false or {before: a time, within: a duration}"),
        ("{before: schedule.starts_at, within: a day}", "rules.yaml:8:50: rules[0].urgent.within: expected a duration"),
        (
            "{before: schedule.start, within: 1d}",
            "rules.yaml:8:22: rules[0].urgent.before: 'schedule.start' is not a time",
        ),
    ):
        with pytest.raises(RulebookError) as caught:
            load_rulebook(textwrap.dedent(URGENT_RULE.replace("{before: schedule.starts_at, within: 24h}", value)))
        assert str(caught.value).startswith(problem), str(caught.value)


# -- urgent e-mail, through a real worker and SMTP server -----------------------------------


def test_a_decline_a_day_before_the_interview_is_emailed_at_once_with_a_one_click_unsubscribe(acme, run_worker, client):
    now = utcnow()
    with SMTPServer() as smtp:
        for envelope in (
            _declined(now, dt.timedelta(hours=3), name="Dana <b>Wu</b>"),
            _declined(now, dt.timedelta(days=3), schedule_id="sched-later"),
        ):
            assert acme.post_event(envelope).status_code == 202
        run_worker(env={"SMTP_URL": smtp.url, "BASE_URL": BASE_URL, "MAIL_FROM": "Docket <docket@acme.test>"})

        assert len(smtp.messages) == 1  # the decline three days ahead waits for the digest
        mail = smtp.messages[0]
        task = Task.get(Task.title.contains("<b>"))
        assert mail["To"] == "Pat Coordinator <pat.coordinator@acme.test>"
        assert mail["From"] == "Docket <docket@acme.test>"
        assert mail["Subject"] == "Urgent: Jordan Lee — Dana <b>Wu</b> declined"
        text, html = _parts(mail)
        assert f"{BASE_URL}/tasks/{task.id}" in text and f'href="{BASE_URL}/tasks/{task.id}"' in html
        assert "Replace Dana <b>Wu</b> in the Onsite interview" in text
        assert "Dana &lt;b&gt;Wu&lt;/b&gt;" in html and "<b>Wu" not in html
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = mail["List-Unsubscribe"]
        assert link.startswith(f"<{BASE_URL}/unsubscribe/") and link.endswith(">")
        sent = Notification.get(Notification.channel == "email", Notification.status == "sent")
        assert sent.attempts == 1 and mail["Message-ID"] == f"<notification-{sent.id}@docket.example>"

        # The link asks first (GET changes nothing), then one POST, without sign-in or CSRF token, unsubscribes.
        path = link[1:-1].removeprefix(BASE_URL)
        page = client.get(path)
        assert page.status_code == 200 and "Unsubscribe?" in page.get_data(as_text=True)
        assert NotificationSettings.select().count() == 0
        answer = client.post(path)
        assert answer.status_code == 200 and "You are unsubscribed" in answer.get_data(as_text=True)
        assert client.post("/unsubscribe/forged-token").status_code == 404

        process(acme, _declined(utcnow(), dt.timedelta(hours=2), schedule_id="sched-2"))
        with acme.client.application.app_context():
            acme.client.application.config["SMTP_URL"] = smtp.url
            send_notifications()
        assert len(smtp.messages) == 1  # the next urgent decline is not e-mailed
        assert (
            Notification.select().where(Notification.status == "skipped", Notification.channel == "email").count() == 1
        )


def test_smtp_down_is_retried_later_and_sent_once_it_is_up_never_twice(acme, app):
    app.config["SMTP_URL"] = ""
    process(acme, ev.integration_event("failed"))  # Broken Integration: urgent, for the account's creator
    send_notifications()  # without SMTP_URL e-mails wait in the outbox, untried
    assert Notification.get(Notification.channel == "email").attempts == 0

    port = free_port()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    send_notifications()
    row = Notification.get(Notification.channel == "email")
    assert (row.status, row.attempts) == ("pending", 1) and "SMTP" in row.last_error
    assert row.next_attempt_at > utcnow() - dt.timedelta(seconds=1)

    with SMTPServer(port=port) as smtp:
        time.sleep(0.05)  # the backoff (0.01 s the first time, in these tests)
        send_notifications()
        send_notifications()
        sweep()  # the periodic round finds no urgent message left to send (it records the day's digest)
        send_notifications()
    urgent = [m for m in smtp.messages if m["Subject"].startswith("Urgent")]
    assert [m["Subject"] for m in urgent] == ["Urgent: Google Calendar integration is broken"]
    row = Notification.get_by_id(row.id)
    assert (row.status, row.attempts) == ("sent", 2)


def test_an_urgent_task_handed_to_someone_else_before_it_is_sent_is_not_mailed_to_the_first(acme, app):
    process(acme, _declined(utcnow(), dt.timedelta(hours=3)))
    task = Task.get(Task.rule_id == "interviewer_declined")
    task.hand_to(User.get(User.email == ev.JO["email"]), acme.user)
    with SMTPServer() as smtp:
        app.config["SMTP_URL"] = smtp.url
        send_notifications()
    assert smtp.messages == []
    assert Notification.get(Notification.channel == "email").status == "skipped"


def test_two_workers_sending_at_once_send_each_message_once(acme, app):
    # A line break in a name must not add a header to the e-mail.
    failing = [dict(ev.INTEGRATION, id=f"calendar-{n}", name=f"Calendar {n}\nBcc: eve@evil.test") for n in range(8)]
    process(acme, *(ev.envelope("integration.failed", n, integration=i) for n, i in enumerate(failing)))

    start = threading.Barrier(2)

    def worker():
        with app.app_context():
            try:
                start.wait(timeout=30)  # both read the same due rows, and race to claim each
                send_notifications()
            finally:
                database.close()

    with SMTPServer() as smtp:
        app.config["SMTP_URL"] = smtp.url
        workers = [threading.Thread(target=worker) for _ in range(2)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=60)
    assert sorted(m["Subject"] for m in smtp.messages) == sorted(
        f"Urgent: Calendar {n} Bcc: eve@evil.test integration is broken" for n in range(8)
    )
    assert not any(m["Bcc"] for m in smtp.messages)
    assert len({m["Message-ID"] for m in smtp.messages}) == 8
    sent = Notification.select().where(Notification.channel == "email")
    assert {(n.status, n.attempts) for n in sent} == {("sent", 1)}


# -- the daily digest -----------------------------------------------------------------------


def test_the_digest_lists_open_tasks_overdue_then_due_today_then_the_rest_as_chosen(acme, app, monkeypatch):
    monkeypatch.setattr(notifications, "utcnow", lambda: FROZEN)
    pat_job = {"id": "job-9", "name": "Data Engineer", "coordinator": ev.PAT}
    process(
        acme,
        _at(ev.stage_changed(), FROZEN - dt.timedelta(days=3)),  # due two days ago
        _declined(FROZEN - dt.timedelta(hours=1), dt.timedelta(hours=4)),  # due at 9:30 today, urgent
        _at(
            ev.stage_changed(application={"id": "app-2"}, candidate=dict(ev.CANDIDATE, id="cand-2", name="Alex Moss")),
            FROZEN - dt.timedelta(minutes=5),
        ),  # due tomorrow
        _at(ev.job_event("created", job=pat_job), FROZEN - dt.timedelta(hours=1)),  # no due time
    )
    pat = User.get(User.email == ev.PAT["email"])
    pat.time_zone = "America/New_York"
    pat.save()
    # Pat wants declines in the digest only, and nothing of new jobs.
    NotificationSettings.create(
        account=acme.account, user=pat, choices={"email": {"Interviewer Declined": "digest", "New Job": "none"}}
    )

    with SMTPServer() as smtp:
        app.config["SMTP_URL"] = smtp.url
        sweep()  # records today's digest (7:30 in New York has come) and asks for a send
        send_notifications()
        assert len(smtp.messages) == 1  # the digest; the urgent decline was not e-mailed at once
        digest = smtp.messages[0]
        assert digest["Subject"] == "Your Docket digest: 3 open tasks"
        assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text, html = _parts(digest)
        order = [
            "Overdue",
            "Jordan Lee — Onsite",
            "Due today",
            "Jordan Lee — Dana Wu declined",
            "The rest",
            "Alex Moss — Onsite",
        ]
        assert [text.index(line) for line in order] == sorted(text.index(line) for line in order)
        assert "Data Engineer" not in text and "Data Engineer" not in html
        assert "Your Docket digest for 2026-12-10" in text and "(due Thu 10 Dec, 09:30)" in text
        decline = Task.get(Task.rule_id == "interviewer_declined")
        assert f'href="{BASE_URL}/tasks/{decline.id}"' in html

        sweep()
        send_notifications()  # a second round the same day sends nothing
        assert len(smtp.messages) == 1

        # Unsubscribing from the digest stops tomorrow's.
        app.test_client().post(digest["List-Unsubscribe"][1:-1].removeprefix(BASE_URL))
        monkeypatch.setattr(notifications, "utcnow", lambda: FROZEN + dt.timedelta(days=1))
        sweep()
        send_notifications()
        assert len(smtp.messages) == 1
    assert [
        (n.kind, n.day, n.status)
        for n in Notification.select().where(Notification.kind == "digest").order_by(Notification.id)
    ] == [
        ("digest", "2026-12-10", "sent"),
        ("digest", "2026-12-11", "skipped"),
    ]


def test_digests_come_at_half_past_seven_in_each_persons_zone_once_a_day(acme):
    jordan = dict(ev.CANDIDATE, coordinator=ev.PAT)
    alex = dict(ev.CANDIDATE, id="cand-2", name="Alex Moss", coordinator=ev.JO)
    process(acme, ev.stage_changed(candidate=jordan), ev.stage_changed(application={"id": "app-2"}, candidate=alex))
    User.update(time_zone="America/New_York").where(User.email == ev.PAT["email"]).execute()
    User.update(time_zone="Asia/Tokyo").where(User.email == ev.JO["email"]).execute()

    def digests():
        query = Notification.select(User.email, Notification.day).join(User).where(Notification.kind == "digest")
        return sorted(query.tuples())

    notifications.schedule_digests(FROZEN - dt.timedelta(minutes=1))  # 7:29 in New York, 21:29 in Tokyo
    assert digests() == [(ev.JO["email"], "2026-12-10")]
    notifications.schedule_digests(FROZEN)  # 7:30 in New York
    notifications.schedule_digests(FROZEN)  # another worker's sweep at the same moment
    notifications.schedule_digests(FROZEN + dt.timedelta(hours=9, minutes=59))  # 7:29 on Friday in Tokyo
    assert digests() == [(ev.JO["email"], "2026-12-10"), (ev.PAT["email"], "2026-12-10")]
    notifications.schedule_digests(FROZEN + dt.timedelta(hours=10))  # 7:30 on Friday in Tokyo
    assert digests() == [
        (ev.JO["email"], "2026-12-10"),
        (ev.JO["email"], "2026-12-11"),
        (ev.PAT["email"], "2026-12-10"),
    ]
    # The account's admin, who has no open task, gets none.

    # Away on Saturday in Tokyo: Jo gets no digest that day (their tasks are their backup's).
    jo = User.get(User.email == ev.JO["email"])
    saturday = FROZEN + dt.timedelta(days=1, hours=10)
    Absence.create(
        account=jo.account_id,
        user=jo,
        starts_at=saturday - dt.timedelta(hours=8),
        ends_at=saturday + dt.timedelta(days=1),
    )
    notifications.schedule_digests(saturday)
    assert (ev.JO["email"], "2026-12-12") not in digests()


# -- Slack, and the settings page -----------------------------------------------------------


def test_slack_posts_reach_the_persons_and_the_teams_webhooks_as_chosen_on_the_profile(acme, app, client, monkeypatch):
    with SlackWebhook() as slack:
        app.config["SLACK_WEBHOOK_BASE"] = slack.base
        sign_in(client, acme.user.email)
        page = client.get("/account/profile").get_data(as_text=True)
        # Defaults: a category the rulebook can mark urgent is immediate, the others in the digest.
        assert 'name="email:Broken Integration"' in page and 'name="slack:Ready to Schedule"' in page
        assert (
            '<option value="immediate" selected>'
            in page.split('name="email:Interviewer Declined"')[1].split("</select>")[0]
        )
        assert (
            '<option value="digest" selected>' in page.split('name="email:Ready to Schedule"')[1].split("</select>")[0]
        )
        token = csrf_from(page)

        refused = client.post(
            "/account/notifications", data={"csrf_token": token, "slack_webhook_url": "https://evil.example/hook"}
        )
        assert refused.status_code == 422 and "Slack incoming-webhook URL" in refused.get_data(as_text=True)
        assert client.post("/account/notifications", data={"slack_webhook_url": slack.base + "x"}).status_code == 400
        saved = client.post(
            "/account/notifications",
            data={
                "csrf_token": token,
                "slack_webhook_url": slack.base + "services/me",
                "email:Broken Integration": "none",
            },
        )
        assert saved.status_code == 303
        team = client.post(
            "/admin/notifications", data={"csrf_token": token, "slack_webhook_url": slack.base + "services/team"}
        )
        assert team.status_code == 303
        page = client.get("/account/profile").get_data(as_text=True)
        assert "services/me" not in page and "services/team" not in page  # a webhook is a secret
        assert "ending …s/me" in page and "ending …team" in page

        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # no server: an e-mail tried would fail
        process(acme, ev.integration_event("failed"))
        send_notifications()
        assert sorted(path for path, _ in slack.posts) == ["/services/me", "/services/team"]
        task = Task.get()
        for _, body in slack.posts:
            assert body["text"].startswith(
                f"Urgent · Broken Integration: <{BASE_URL}/tasks/{task.id}|Google Calendar integration is broken>"
            )
        # E-mail was turned off for the category: that message was skipped, never sent.
        assert Notification.get(Notification.channel == "email").status == "skipped"

        # At 7:30 both webhooks get the day's digest too; the e-mail digest would list nothing.
        monkeypatch.setattr(notifications, "utcnow", lambda: FROZEN)
        notifications.schedule_digests()
        send_notifications()
        digests = [(path, body["text"]) for path, body in slack.posts[2:]]
        assert sorted(path for path, _ in digests) == ["/services/me", "/services/team"]
        for _, text in digests:
            assert text.startswith("Docket digest for 2026-12-10: 1 open task\n*Overdue*\n")
            assert f"<{BASE_URL}/tasks/{task.id}|Google Calendar integration is broken>" in text
        assert Notification.get(Notification.channel == "email", Notification.kind == "digest").status == "skipped"

    client.post("/account/notifications", data={"csrf_token": token, "remove_slack": "1"})
    assert NotificationSettings.of(acme.account, acme.user).slack_webhook_url is None
    assert NotificationSettings.of(acme.account).slack_webhook_url == slack.base + "services/team"


def test_only_an_admin_sets_the_teams_slack(acme, client):
    sign_in_coordinator(client, acme.account)
    page = client.get("/account/profile").get_data(as_text=True)
    assert "Your Slack incoming webhook" in page and "The team's Slack channel" not in page
    answer = client.post("/admin/notifications", data={"csrf_token": csrf_from(page), "slack_webhook_url": ""})
    assert answer.status_code == 403 and NotificationSettings.of(acme.account) is None


def test_smtp_url_says_the_server_its_security_and_the_sign_in():
    assert notifications.smtp_settings("smtp://mailer:p%40ss@mail.acme.test:2525?starttls=1") == (
        "mail.acme.test",
        2525,
        "mailer",
        "p@ss",
        False,
        True,
    )
    assert notifications.smtp_settings("smtps://mail.acme.test") == ("mail.acme.test", 465, None, None, True, False)
    assert notifications.smtp_settings("smtp://localhost")[1] == 25
    with pytest.raises(notifications.SendError):
        notifications.smtp_settings("http://mail.acme.test")
