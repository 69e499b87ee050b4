"""Helpers for the ATS tests: connect an ATS, sign and post a delivery, process the inbox in-process."""

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from webapp.models import Integration

ROOT = Path(__file__).resolve().parents[2]
PAYLOADS = ROOT / "tests" / "payloads"
GREENHOUSE = PAYLOADS / "greenhouse"
HARVEST = GREENHOUSE / "harvest"

SECRET = "whsec-test-not-a-real-secret"


def hexmac(secret, message):
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def greenhouse_fixture(name):
    """The raw bytes of one of Greenhouse's published webhook examples."""
    return (GREENHOUSE / f"{name}.json").read_bytes()


def harvest_fixture(name):
    return json.loads((HARVEST / f"{name}.json").read_text())


@pytest.fixture
def connect():
    """connect(handle, provider, secret=SECRET, api_key=None) -> Integration."""

    def make(handle, provider, secret=SECRET, api_key=None):
        return Integration.create(account=handle.account, provider=provider, webhook_secret=secret, api_key=api_key)

    return make


@pytest.fixture
def drain(app):
    """Process the inbox in this process, as a worker would."""
    from webapp.pipeline import drain as drain_inbox

    def run():
        return drain_inbox()

    return run


@pytest.fixture
def harvest(app):
    """A fake Harvest API behind the client's transport, knowing the coordinator of the documented job."""
    from .test_harvest_sync import FakeHarvest, user

    fake = FakeHarvest()
    fake.serve("/users/122635", user(122635, "teddy.pizzazz@acme.test", "Teddy Pizzazz"))
    app.config["HARVEST_TRANSPORT"] = fake
    app.config["HARVEST_SLEEP"] = lambda seconds: fake.calls.append(("SLEEP", seconds, None))
    return fake
