"""The admin page for integrations: admins only, connect with write-only secrets, sync now."""

import pytest

from tests.helpers import csrf_from, sign_in, sign_in_coordinator
from webapp.models import Integration


@pytest.fixture
def admin(client, make_account):
    handle = make_account("Acme")
    sign_in(client, handle.user.email)
    return handle


def page(client):
    response = client.get("/admin/integrations")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/integrations")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_coordinators_who_are_not_admins_are_refused(client, make_account):
    handle = make_account("Acme")
    sign_in_coordinator(client, handle.account)
    assert client.get("/admin/integrations").status_code == 403


def test_connecting_greenhouse_shows_the_webhook_url_and_never_the_secrets(client, admin):
    html = page(client)
    assert "Connect Greenhouse" in html
    response = client.post(
        "/admin/integrations/greenhouse",
        data={"csrf_token": csrf_from(html), "webhook_secret": "s3cret-value", "api_key": "k3y-value"},
    )
    assert response.status_code == 303
    integration = Integration.of(admin.account, "greenhouse")
    assert (integration.webhook_secret, integration.api_key) == ("s3cret-value", "k3y-value")
    html = page(client)
    assert f"/webhooks/greenhouse/{admin.account.webhook_key}" in html
    assert "s3cret-value" not in html and "k3y-value" not in html
    assert "Sync now" in html


def test_a_blank_secret_keeps_the_saved_one(client, admin, connect):
    connect(admin, "ashby", secret="keep-me")
    client.post("/admin/integrations/ashby", data={"csrf_token": csrf_from(page(client)), "webhook_secret": ""})
    assert Integration.of(admin.account, "ashby").webhook_secret == "keep-me"


def test_connecting_needs_a_secret(client, admin):
    client.post("/admin/integrations/lever", data={"csrf_token": csrf_from(page(client)), "webhook_secret": " "})
    assert Integration.of(admin.account, "lever") is None


def test_posting_without_the_csrf_token_is_refused(client, admin):
    response = client.post("/admin/integrations/greenhouse", data={"webhook_secret": "x"})
    assert response.status_code == 400
    assert Integration.of(admin.account, "greenhouse") is None


def test_sync_now_queues_a_sync(client, admin, connect):
    from webapp.queue import get_queue

    integration = connect(admin, "greenhouse", api_key="key")
    response = client.post("/admin/integrations/greenhouse/sync", data={"csrf_token": csrf_from(page(client))})
    assert response.status_code == 303
    assert [(j.func_name, j.args) for j in get_queue().jobs] == [("worker.jobs.sync_integration", (integration.id,))]


def test_a_failing_integration_shows_its_last_error(client, admin, connect):
    integration = connect(admin, "greenhouse", api_key="key")
    integration.status, integration.last_error = "failing", "Harvest answered 401: Invalid Basic Auth credentials"
    integration.save()
    html = page(client)
    assert "failing" in html and "Invalid Basic Auth credentials" in html


def test_an_admin_sets_then_replaces_the_lever_api_key(client, admin, connect):
    connect(admin, "lever", secret="tok-1")
    html = page(client)
    assert "A Lever API key" in html
    client.post(
        "/admin/integrations/lever",
        data={"csrf_token": csrf_from(html), "webhook_secret": "", "api_key": "first-key"},
    )
    client.post(
        "/admin/integrations/lever",
        data={"csrf_token": csrf_from(page(client)), "webhook_secret": "", "api_key": "second-key"},
    )
    integration = Integration.of(admin.account, "lever")
    assert (integration.webhook_secret, integration.api_key) == ("tok-1", "second-key")
    html = page(client)
    assert "second-key" not in html and "Sync now" not in html.split('id="integration-lever"')[1].split("</section>")[0]


def test_setting_the_lever_api_key_needs_the_csrf_token(client, admin, connect):
    connect(admin, "lever", secret="tok-1")
    assert client.post("/admin/integrations/lever", data={"api_key": "k"}).status_code == 400
    assert Integration.of(admin.account, "lever").api_key is None


def test_connecting_without_a_secret_marks_that_ats_secret_field(client, admin):
    response = client.post(
        "/admin/integrations/lever", data={"csrf_token": csrf_from(page(client)), "webhook_secret": " "}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    lever = html.split('id="integration-lever"')[1].split("</section>")[0]
    assert 'aria-describedby="lever-webhook_secret-error"' in lever
    assert '<p class="field-error" id="lever-webhook_secret-error">A webhook secret is needed to connect.</p>' in lever
    assert "field-error" not in html.split('id="integration-lever"')[0]
    assert Integration.of(admin.account, "lever") is None
