"""Which account a vendor webhook's delivery is for: the integration of the provider in the URL
of the account whose key is in the URL, looked up with its account in one query
(views/webhooks.integration_for), and no other account's."""

from webapp.models import Event
from webapp.views.webhooks import integration_for

from .conftest import SECRET, greenhouse_fixture, hexmac


def _deliver(client, provider, key, secret=SECRET):
    body = greenhouse_fixture("candidate_stage_change")
    headers = {"Signature": f"sha256 {hexmac(secret, body)}", "Content-Type": "application/json"}
    return client.post(f"/webhooks/{provider}/{key}", data=body, headers=headers)


def test_the_integration_comes_with_its_own_account(make_account, connect):
    acme, globex = make_account("Acme"), make_account("Globex")
    mine = connect(acme, "greenhouse")
    connect(globex, "greenhouse", secret="globex-secret")
    found = integration_for("greenhouse", acme.account.webhook_key)
    assert (found.id, found.webhook_secret, found.provider) == (mine.id, SECRET, "greenhouse")
    assert (found.account.id, found.account.name) == (acme.account.id, "Acme")
    assert integration_for("lever", acme.account.webhook_key) is None  # Acme has no Lever
    assert integration_for("greenhouse", "not-a-key") is None


def test_a_delivery_is_stored_for_the_account_whose_key_it_names_only(client, make_account, connect):
    acme, globex = make_account("Acme"), make_account("Globex")
    connect(acme, "greenhouse")
    connect(globex, "lever")
    response = _deliver(client, "greenhouse", acme.account.webhook_key)
    assert response.status_code == 200, response.get_json()
    assert Event.get_by_id(response.get_json()["event"]).account_id == acme.account.id
    # Globex's key with a provider Globex has not connected, and a secret that is not Globex's.
    assert _deliver(client, "greenhouse", globex.account.webhook_key).status_code == 404
    assert _deliver(client, "greenhouse", acme.account.webhook_key, secret="globex-secret").status_code == 401
    assert Event.select().count() == 1
