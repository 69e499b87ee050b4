"""Signing in and out: passwords, remember-me, the first sign-in making the account's creator,
safe redirects, and slowing down repeated failures."""

import datetime as dt
import re

import pytest

from webapp.models import Account, AccountCreator, User, account_creator

PASSWORD = "correct horse battery"


def csrf(client):
    """A CSRF token from a page with a form: the sign-in page, or the list once signed in."""
    response = client.get("/login", follow_redirects=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True)).group(1)


def post_login(client, email, password=PASSWORD, **extra):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf(client), **extra})


@pytest.fixture(autouse=True)
def forget_failed_sign_ins(app):
    """Failed sign-ins are remembered in Redis, which outlives one test: start and end each test clean."""
    from webapp.queue import redis_connection

    def clear():
        connection = redis_connection()
        keys = list(connection.scan_iter(f"docket:{app.config['QUEUE_NAME']}:login:*"))
        if keys:
            connection.delete(*keys)

    clear()
    yield
    clear()


@pytest.fixture
def pat(app):
    """Pat, of an account nobody has signed in to yet."""
    account = Account.create(name="Initech")
    user = User.for_email(account, "pat@initech.test", "Pat Lee")
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true"}])
def test_the_sign_in_page_is_a_labelled_form(client, app, headers):
    response = client.get("/login", headers=headers)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<label for="email">' in html and '<label for="password">' in html
    assert 'name="csrf_token"' in html


def test_signing_in_goes_to_the_task_list_and_the_first_person_becomes_the_creator(client, pat):
    assert account_creator(pat.account) is None
    response = post_login(client, "PAT@initech.test ")
    assert response.status_code == 303 and response.headers["Location"] == "/tasks"
    assert account_creator(pat.account).id == pat.id
    assert User.get_by_id(pat.id).last_login_at is not None
    assert "My tasks" in client.get("/tasks").get_data(as_text=True)


def test_tasks_raised_before_anyone_signed_in_go_to_the_first_person_who_does(client, pat):
    from tests import events as ev
    from webapp.inbox import accept
    from webapp.models import Task, TaskHistory
    from webapp.pipeline import drain

    failed = ev.integration_event("failed")  # for the account's creator, and there is none yet
    accept(pat.account, "api", failed["id"], failed, type=failed["type"], occurred_at=failed["occurred_at"])
    drain()
    [task] = Task.select()
    assert task.status == Task.OPEN and task.assignee_id is None

    post_login(client, pat.email)
    assert Task.get_by_id(task.id).assignee_id == pat.id
    [history] = TaskHistory.select().where(TaskHistory.kind == "reassigned")
    assert pat.name in history.note
    assert "Broken Integration" in client.get("/tasks").get_data(as_text=True)


def test_a_later_sign_in_by_someone_else_does_not_change_the_creator(app, pat):
    sam = User.for_email(pat.account, "sam@initech.test", "Sam")
    sam.set_password(PASSWORD)
    sam.save()
    post_login(app.test_client(), pat.email)
    from flask import g

    g.pop("_login_user", None)
    g.pop("csrf_token", None)
    post_login(app.test_client(), sam.email)
    assert AccountCreator.select().where(AccountCreator.account == pat.account).count() == 1
    assert account_creator(pat.account).id == pat.id


def test_a_wrong_password_is_refused_with_a_message(client, pat):
    response = post_login(client, pat.email, "wrong")
    assert response.status_code == 401
    assert "That e-mail and password do not match." in response.get_data(as_text=True)
    assert client.get("/tasks").status_code == 302


def test_after_the_sign_in_the_next_page_is_shown_but_only_on_this_site(client, pat):
    assert post_login(client, pat.email, next="/tasks?completed=1").headers["Location"] == "/tasks?completed=1"
    client.post("/logout", data={"csrf_token": csrf(client)})
    for target in ("//evil.test/x", "https://evil.test/", "/\\evil.test"):
        assert post_login(client, pat.email, next=target).headers["Location"] == "/tasks"
        client.post("/logout", data={"csrf_token": csrf(client)})


OFF_SITE_TARGETS = [
    "//evil.test/x",
    "https://evil.test/",
    "/\\evil.test",
    "/\t/evil.test",  # werkzeug drops the tab: Location //evil.test
    "/\r\n/evil.test",  # a newline in a header was a 500
    "/\n/evil.test",
    "/ /evil.test",
    "\t//evil.test",
    "/\x00/evil.test",
    "javascript:alert(1)",
    "evil.test",
]


@pytest.mark.parametrize("target", OFF_SITE_TARGETS)
def test_a_signed_in_visitor_of_the_sign_in_page_never_goes_off_site(client, pat, target):
    post_login(client, pat.email)
    response = client.get("/login", query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/tasks"


def test_the_sign_in_page_follows_an_encoded_tab_to_the_task_list_not_off_site(client, pat):
    post_login(client, pat.email)
    response = client.get("/login?next=/%09/evil.test")
    assert response.headers["Location"] == "/tasks"
    assert client.get("/login?next=/%0d%0a/").headers["Location"] == "/tasks"


@pytest.mark.parametrize("target", OFF_SITE_TARGETS)
def test_signing_in_never_goes_off_site(client, pat, target):
    response = post_login(client, pat.email, next=target)
    assert response.status_code == 303 and response.headers["Location"] == "/tasks"


def test_a_same_site_next_page_with_unicode_is_followed_encoded(client, pat):
    post_login(client, pat.email)
    assert client.get("/login", query_string={"next": "/tasks?q=é"}).headers["Location"] == "/tasks?q=%C3%A9"


def test_repeated_failures_are_slowed_down(client, pat):
    for _ in range(5):
        assert post_login(client, pat.email, "guess").status_code == 401
    assert post_login(client, pat.email, "guess").status_code == 401  # the 6th failure starts a wait
    response = post_login(client, pat.email)  # even the right password waits
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    assert "Too many failed sign-ins" in response.get_data(as_text=True)
    assert client.get("/tasks").status_code == 302


def from_address(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_someone_guessing_a_victims_password_does_not_lock_the_victim_out(app, pat, each_request_alone):
    attacker = from_address(app, "203.0.113.9")
    for _ in range(12):
        post_login(attacker, pat.email, "guess")
    assert post_login(attacker, pat.email).status_code == 429  # the guesser waits, right password or not

    victim = from_address(app, "198.51.100.7")
    response = post_login(victim, pat.email)
    assert response.status_code == 303 and signed_in_as_pat(victim)


def test_guessing_one_email_from_many_clients_is_slowed_down_for_those_clients(app, pat, each_request_alone):
    from webapp.security import FREE_FAILURES_PER_EMAIL

    for n in range(FREE_FAILURES_PER_EMAIL + 1):
        assert post_login(from_address(app, f"203.0.113.{n}"), pat.email, "guess").status_code == 401
    # A client that has guessed wrong at this e-mail waits for the e-mail's lock, even with one guess.
    assert post_login(from_address(app, "203.0.113.0"), pat.email, "guess").status_code == 429
    # One that has not tried it yet may: the right password still gets in.
    assert post_login(from_address(app, "198.51.100.7"), pat.email).status_code == 303


def test_one_client_guessing_many_emails_is_slowed_down(app, pat, each_request_alone):
    from webapp.security import FREE_FAILURES_PER_CLIENT

    guesser = from_address(app, "203.0.113.9")
    for n in range(FREE_FAILURES_PER_CLIENT + 1):
        assert post_login(guesser, f"someone{n}@initech.test", "guess").status_code == 401
    assert post_login(guesser, pat.email).status_code == 429
    assert post_login(from_address(app, "198.51.100.7"), pat.email).status_code == 303


def test_while_redis_is_down_failed_sign_ins_are_still_slowed_down(app, pat, monkeypatch, each_request_alone):
    import redis

    import webapp.security

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    monkeypatch.setattr(webapp.security, "redis_connection", lambda: dead)
    attacker = from_address(app, "203.0.113.9")
    for _ in range(6):
        assert post_login(attacker, pat.email, "guess").status_code == 401
    response = post_login(attacker, pat.email)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
    assert post_login(from_address(app, "198.51.100.7"), pat.email).status_code == 303


def test_the_in_process_counters_are_bounded_and_forget_in_time():
    from webapp.security import LocalCounters

    now = [0.0]
    counters = LocalCounters(max_keys=100, clock=lambda: now[0])
    for n in range(1000):
        counters.add(f"addr:{n}", 60)
    assert len(counters) == 100
    assert counters.counts(["addr:999", "addr:0"]) == [1, 0]  # the oldest went first
    counters.add("victim", 60)
    counters.lock("victim", 8)
    assert counters.locked_for(["victim"]) == [8]
    now[0] = 9.0
    assert counters.locked_for(["victim"]) == [0] and counters.counts(["victim"]) == [1]
    now[0] = 61.0
    assert counters.counts(["victim"]) == [0]


def test_remember_me_keeps_the_sign_in_for_at_most_30_days(client, pat):
    response = post_login(client, pat.email, remember="1")
    cookies = response.headers.getlist("Set-Cookie")
    remember = next(c for c in cookies if c.startswith("remember_token="))
    assert "HttpOnly" in remember and "SameSite=Lax" in remember
    expires = dt.datetime.strptime(re.search(r"Expires=([^;]+)", remember).group(1), "%a, %d %b %Y %H:%M:%S GMT")
    assert expires - dt.datetime.now(dt.UTC).replace(tzinfo=None) <= dt.timedelta(days=30, minutes=1)
    session = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session


def test_cookies_are_secure_when_served_over_https_and_only_then(app, client, pat):
    from flask import g

    assert not any("; Secure" in c for c in post_login(client, pat.email, remember="1").headers.getlist("Set-Cookie"))
    g.pop("_login_user", None)  # the tests share one app context: a new visitor
    g.pop("csrf_token", None)
    client = app.test_client()
    page = client.get("/login", base_url="https://docket.example")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post(
        "/login",
        data={"email": pat.email, "password": PASSWORD, "remember": "1", "csrf_token": token},
        base_url="https://docket.example",
        headers={"Referer": "https://docket.example/login"},  # over https, CSRF checks the referrer too
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    cookies = response.headers.getlist("Set-Cookie")
    assert {c.split("=", 1)[0] for c in cookies} >= {"session", "remember_token"}
    assert all("; Secure" in c for c in cookies)
    assert response.headers["Strict-Transport-Security"]


def test_without_remember_me_there_is_no_lasting_cookie(client, pat):
    cookies = post_login(client, pat.email).headers.getlist("Set-Cookie")
    assert not any(c.startswith("remember_token=") for c in cookies)


def test_signing_out_is_a_post(client, pat):
    post_login(client, pat.email)
    assert client.get("/logout").status_code == 405
    assert client.get("/tasks").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf(client)})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert client.get("/tasks").status_code == 302


def test_signing_out_needs_the_csrf_token(client, pat):
    post_login(client, pat.email)
    assert client.post("/logout").status_code == 400
    assert client.get("/tasks").status_code == 200


def test_a_signed_in_visitor_of_the_sign_in_page_goes_to_the_list(client, pat):
    post_login(client, pat.email)
    assert client.get("/login").headers["Location"] == "/tasks"


def test_error_pages_look_like_the_app(client, app):
    response = client.get("/no-such-page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert 'class="topbar"' in html and "Not found" in html and "docket.css" in html


def test_the_api_keeps_answering_json_for_unknown_paths(client, app):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404 and response.is_json


# Ending sessions. The tests share one app context, and with it flask-login's cached user: each
# request here forgets it, as a real request would, so a copied cookie is judged on its own.


@pytest.fixture
def each_request_alone(app):
    from flask import g

    @app.before_request
    def _forget_the_previous_requests_user():
        g.pop("_login_user", None)
        g.pop("csrf_token", None)


def copy_of(client, *names):
    """Another browser holding copies of these cookies of the client's."""
    thief = client.application.test_client()
    for name in names:
        thief.set_cookie(name, client.get_cookie(name).value)
    return thief


def signed_in_as_pat(client):
    return client.get("/tasks").status_code == 200


def test_a_session_cookie_copied_before_signing_out_no_longer_opens_the_list(client, pat, each_request_alone):
    post_login(client, pat.email)
    thief = copy_of(client, "session")
    assert signed_in_as_pat(thief)
    client.post("/logout", data={"csrf_token": csrf(client)})
    response = thief.get("/tasks")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_signing_out_ends_the_users_sessions_on_every_device(app, pat, each_request_alone):
    laptop, phone = app.test_client(), app.test_client()
    post_login(laptop, pat.email)
    post_login(phone, pat.email)
    laptop.post("/logout", data={"csrf_token": csrf(laptop)})
    assert not signed_in_as_pat(phone)
    post_login(phone, pat.email)
    assert signed_in_as_pat(phone)


def test_a_remember_me_cookie_copied_before_signing_out_no_longer_signs_in(client, pat, each_request_alone):
    post_login(client, pat.email, remember="1")
    thief = copy_of(client, "remember_token")  # no session: the remember-me cookie alone
    assert signed_in_as_pat(thief)
    client.post("/logout", data={"csrf_token": csrf(client)})
    assert thief.get("/tasks").headers["Location"].startswith("/login")


def test_a_remember_me_cookie_stops_working_after_its_duration_even_replayed(
    client, pat, monkeypatch, each_request_alone
):
    import webapp.auth
    from webapp.models import utcnow

    post_login(client, pat.email, remember="1")
    cookie = client.get_cookie("remember_token")
    assert cookie.expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=30, minutes=1)
    thief = copy_of(client, "remember_token")
    monkeypatch.setattr(webapp.auth, "utcnow", lambda: utcnow() + dt.timedelta(days=29))
    assert signed_in_as_pat(copy_of(client, "remember_token"))
    monkeypatch.setattr(webapp.auth, "utcnow", lambda: utcnow() + dt.timedelta(days=30, minutes=1))
    assert not signed_in_as_pat(thief)
    assert not signed_in_as_pat(copy_of(client, "session"))  # nor the session of that sign-in


def test_a_password_change_ends_every_other_session_and_keeps_this_one(app, pat, each_request_alone):
    laptop, phone = app.test_client(), app.test_client()
    post_login(laptop, pat.email, remember="1")
    post_login(phone, pat.email, remember="1")
    copied = copy_of(phone, "session", "remember_token")
    response = laptop.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "new": "a much longer secret",
            "again": "a much longer secret",
            "csrf_token": csrf(laptop),
        },
    )
    assert response.status_code == 303 and response.headers["Location"] == "/tasks"
    assert signed_in_as_pat(laptop)
    assert signed_in_as_pat(copy_of(laptop, "remember_token"))  # this browser's remember-me is renewed
    assert not signed_in_as_pat(phone)
    assert not signed_in_as_pat(copied)
    assert not signed_in_as_pat(copy_of(phone, "remember_token"))
    assert post_login(app.test_client(), pat.email).status_code == 401
    assert post_login(app.test_client(), pat.email, "a much longer secret").status_code == 303


def test_a_password_set_from_the_command_line_ends_every_session(client, pat, runner, each_request_alone):
    post_login(client, pat.email, remember="1")
    copied = copy_of(client, "session", "remember_token")
    result = runner.invoke(
        args=["create-user", pat.email, "--account", pat.account.name, "--name", pat.name, "--password", "another one!"]
    )
    assert result.exit_code == 0, result.output
    assert not signed_in_as_pat(copied)


@pytest.mark.parametrize(
    "form, field",
    [
        ({"current": "wrong", "new": "a much longer secret", "again": "a much longer secret"}, "current"),
        ({"current": PASSWORD, "new": "short", "again": "short"}, "new"),
        ({"current": PASSWORD, "new": "a much longer secret", "again": "a much longer secreT"}, "again"),
    ],
)
def test_a_password_change_that_does_not_hold_changes_nothing(client, pat, form, field, each_request_alone):
    post_login(client, pat.email)
    assert client.get("/account/password").status_code == 200
    response = client.post("/account/password", data={**form, "csrf_token": csrf(client)})
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert User.get_by_id(pat.id).check_password(PASSWORD)
    assert signed_in_as_pat(client)


@pytest.fixture
def admin_of_pats_account(app, pat):
    admin = User.for_email(pat.account, "ada@initech.test", "Ada Admin")
    admin.set_password(PASSWORD)
    admin.is_admin = True
    admin.save()
    return admin


def test_an_admin_turning_a_sign_in_off_ends_its_sessions_cookies_and_tokens(
    app, pat, admin_of_pats_account, each_request_alone
):
    from webapp.models import ApiToken

    victim = app.test_client()
    post_login(victim, pat.email, remember="1")
    copied = copy_of(victim, "remember_token")
    token = ApiToken.issue(pat)
    assert app.test_client().get("/api/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    admin = app.test_client()
    post_login(admin, admin_of_pats_account.email)
    page = admin.get("/admin/people").get_data(as_text=True)
    assert f'action="/admin/people/{pat.id}/disable"' in page
    response = admin.post(f"/admin/people/{pat.id}/disable", data={"csrf_token": csrf(admin)})
    assert response.status_code == 303

    assert not signed_in_as_pat(victim) and not signed_in_as_pat(copied)
    assert app.test_client().get("/api/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    refused = post_login(app.test_client(), pat.email)
    assert refused.status_code == 403 and "turned off" in refused.get_data(as_text=True)

    admin.post(f"/admin/people/{pat.id}/enable", data={"csrf_token": csrf(admin)})
    assert not signed_in_as_pat(copied)  # turning it on again does not bring old sessions back
    assert post_login(app.test_client(), pat.email).status_code == 303


def test_an_admin_cannot_turn_off_their_own_sign_in_nor_someone_of_another_account(
    app, pat, admin_of_pats_account, each_request_alone
):
    other = User.for_email(Account.create(name="Globex"), "gil@globex.test", "Gil")
    admin = app.test_client()
    post_login(admin, admin_of_pats_account.email)
    admin.post(f"/admin/people/{admin_of_pats_account.id}/disable", data={"csrf_token": csrf(admin)})
    assert User.get_by_id(admin_of_pats_account.id).is_active and signed_in_as_pat(admin)
    assert admin.post(f"/admin/people/{other.id}/disable", data={"csrf_token": csrf(admin)}).status_code == 404
    assert User.get_by_id(other.id).is_active


def test_a_session_from_before_session_tokens_is_signed_out(client, pat, each_request_alone):
    with client.session_transaction() as session:
        session["_user_id"] = str(pat.id)  # what a session named the user by until now
        session["_fresh"] = True
    assert not signed_in_as_pat(client)
