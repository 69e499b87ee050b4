"""Connecting a calendar from the CLI and the admin page (secrets never shown again), and the
banner every user sees while an integration is broken."""

import io
import json
import re

from webapp.models import Integration, User


def login(client, email):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": "correct horse battery", "csrf_token": token})
    assert response.status_code in (302, 303), response.status_code


def test_connect_google_from_the_cli_with_a_service_account(runner, make_account, service_account_info, tmp_path):
    handle = make_account("Acme")
    key = tmp_path / "key.json"
    key.write_text(json.dumps(service_account_info))
    result = runner.invoke(
        args=["connect", "google", "--account", "Acme", "--service-account", str(key), "--domain", "Acme.test"]
    )
    assert result.exit_code == 0, result.output
    assert "Google Calendar connected to Acme." in result.output
    assert service_account_info["private_key"] not in result.output
    integration = Integration.of(handle.account, "google")
    assert integration.kind == "calendar" and integration.credentials["domain"] == "acme.test"
    assert integration.as_record()["kind"] == "calendar"


def test_connect_microsoft_from_the_cli_needs_tenant_client_and_secret(runner, make_account):
    handle = make_account("Acme")
    result = runner.invoke(args=["connect", "microsoft", "--account", "Acme", "--tenant-id", "t"])
    assert result.exit_code != 0 and "client id" in result.output
    result = runner.invoke(
        args=[
            "connect",
            "microsoft",
            "--account",
            "Acme",
            "--tenant-id",
            "t",
            "--client-id",
            "c",
            "--client-secret",
            "s",
        ]
        + ["--owner", "it@acme.test"]
    )
    assert result.exit_code == 0, result.output
    integration = Integration.of(handle.account, "microsoft")
    assert integration.credentials == {"tenant_id": "t", "client_id": "c", "client_secret": "s"}
    assert integration.as_record()["owner"]["email"] == "it@acme.test"


def test_an_ats_still_needs_its_webhook_secret(runner, make_account):
    make_account("Acme")
    result = runner.invoke(args=["connect", "greenhouse", "--account", "Acme"])
    assert result.exit_code != 0 and "--webhook-secret" in result.output


def test_admins_connect_microsoft_on_the_integrations_page_and_the_secret_is_not_shown(app, client, make_account):
    handle = make_account("Acme")
    login(client, handle.user.email)
    page = client.get("/admin/integrations")
    assert page.status_code == 200 and b"Microsoft 365" in page.data
    token = page.data.split(b'name="csrf_token" value="')[1].split(b'"')[0].decode()
    response = client.post(
        "/admin/integrations/calendar/microsoft",
        data={
            "csrf_token": token,
            "tenant_id": "tenant-1",
            "client_id": "client-1",
            "client_secret": "very-secret-value",
        },
    )
    assert response.status_code == 303
    integration = Integration.of(handle.account, "microsoft")
    assert integration.credentials["client_secret"] == "very-secret-value"
    assert integration.owner_email == handle.user.email
    page = client.get("/admin/integrations")
    assert b"very-secret-value" not in page.data and b"tenant-1" in page.data


def test_admins_connect_google_with_a_key_file(app, client, make_account, service_account_info):
    handle = make_account("Acme")
    login(client, handle.user.email)
    page = client.get("/admin/integrations")
    token = page.data.split(b'name="csrf_token" value="')[1].split(b'"')[0].decode()
    response = client.post(
        "/admin/integrations/calendar/google",
        data={
            "csrf_token": token,
            "domain": "acme.test",
            "service_account": (io.BytesIO(json.dumps(service_account_info).encode()), "key.json"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert Integration.of(handle.account, "google").credentials["service_account"]["client_email"]
    assert b"PRIVATE KEY" not in client.get("/admin/integrations").data


def test_every_user_sees_which_data_may_be_stale_while_an_integration_is_broken(app, client, make_account):
    handle = make_account("Acme")
    colleague = User.for_email(handle.account, "sam@acme.test", "Sam")
    colleague.set_password("correct horse battery")
    colleague.save()
    Integration.create(account=handle.account, provider="google", kind="calendar", credentials={}, status="failing")
    login(client, "sam@acme.test")
    page = client.get("/tasks").get_data(as_text=True)
    assert "Google Calendar is not working." in page
    assert "Answers to calendar invites (declines) may be stale" in page
    assert "An admin can reconnect it under Settings → Integrations." in page

    Integration.update(status="ok").execute()
    assert "is not working" not in client.get("/tasks").get_data(as_text=True)
