"""Adapters are pure: a vendor's `normalise` makes its envelopes from the stored row and what the
vendor's look-ups found, reaching for no database, Redis or vendor API, so that the pipeline alone
writes the mirror, tasks and history. What adapters once wrote themselves is now an envelope."""

import datetime as dt
import json

import peewee
import pytest

from webapp import queue
from webapp.integrations import normalise
from webapp.integrations.base import VENDORS
from webapp.integrations.http import VendorClient
from webapp.models import Event, Integration

from .conftest import PAYLOADS

SAMPLES = sorted((vendor, path.stem) for vendor in VENDORS for path in (PAYLOADS / vendor).glob("*.json"))
RECEIVED = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
COORDINATOR = {"email": "casey.coordinator@acme.test", "name": "Casey Coordinator"}
# What the vendors' look-ups found: Harvest's user 456 (merge_candidate's coordinator), and
# Lever's API's answer for the opportunity its samples name.
USERS = {"456": COORDINATOR}
LEVER_LOOKUPS = {
    "candidate": {"id": "7f23e772-a4a8-4f3b-8d41-8d6a12d6a2f1", "name": "Shane Smith", "coordinator": COORDINATOR}
}


def _row(vendor, name, lookups=None):
    """A stored row as the worker reads it, never saved: the adapter gets nothing else."""
    payload = json.loads((PAYLOADS / vendor / f"{name}.json").read_text())
    return Event(source=vendor, external_id=f"{vendor}:{name}", payload=payload, received_at=RECEIVED, lookups=lookups)


def _integration(vendor):
    return Integration(provider=vendor, state={"users": USERS})


def _refuse_io(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("an adapter reached for the database, Redis or a vendor's API")

    monkeypatch.setattr(peewee.Database, "execute_sql", refuse)
    monkeypatch.setattr(peewee.Database, "cursor", refuse)
    monkeypatch.setattr(queue, "redis_connection", refuse)
    monkeypatch.setattr(VendorClient, "request", refuse)
    with pytest.raises(AssertionError):
        Event.select().count()  # the database is there, and refused


@pytest.mark.parametrize("vendor, name", SAMPLES, ids=[f"{v}-{n}" for v, n in SAMPLES])
def test_each_published_sample_is_normalised_from_the_row_and_its_lookups_alone(app, monkeypatch, vendor, name):
    row = _row(vendor, name, LEVER_LOOKUPS if vendor == "lever" else None)
    expected = normalise(row, _integration(vendor))
    _refuse_io(monkeypatch)
    envelopes = normalise(row, _integration(vendor))
    assert envelopes == expected
    assert json.loads(json.dumps(envelopes)) == envelopes  # plain data, as the inbox would keep it


def _types(vendor, name, lookups=None):
    return [e["type"] for e in normalise(_row(vendor, name, lookups), _integration(vendor))]


def test_what_adapters_wrote_themselves_is_now_an_envelope_for_the_pipeline(app, monkeypatch):
    _refuse_io(monkeypatch)
    assert _types("greenhouse", "update_candidate") == ["candidate.updated"]
    assert _types("greenhouse", "job_updated") == ["job.updated"]
    assert _types("greenhouse", "merge_candidate") == ["candidate.merged", "candidate.erased"]
    assert _types("greenhouse", "interview_deleted") == ["schedule.interview_removed"]
    assert _types("ashby", "jobUpdate") == ["job.closed"]
    assert _types("ashby", "interviewScheduleCreate") == ["schedule.reported"]
    assert _types("lever", "applicationCreated") == ["application.created"]
    assert _types("lever", "applicationCreated", LEVER_LOOKUPS) == [
        "candidate.coordinator_reported",
        "application.created",
    ]
    assert _types("lever", "interviewCreated") == ["schedule.changed"]


def test_the_coordinators_harvest_named_come_from_the_integrations_cache(app, monkeypatch):
    _refuse_io(monkeypatch)
    merged, erased = normalise(_row("greenhouse", "merge_candidate"), _integration("greenhouse"))
    assert merged["data"]["merged_into"] == {
        "id": "457456",
        "name": merged["data"]["merged_into"]["name"],
        "coordinator": COORDINATOR,
    }
    assert merged["data"]["candidate"] == {"id": "37031511"} and erased["data"]["merged_into"] == {"id": "457456"}
    # Without the cache, nobody is named: the adapter asks no one.
    [merged, _] = normalise(_row("greenhouse", "merge_candidate"), None)
    assert "coordinator" not in merged["data"]["merged_into"]
