"""Calendar vendors that say "slow down" are waited for as each documents it: Graph's 429 (and a
503 that says how long) by its Retry-After, Google's 429 and 403 rateLimitExceeded with exponential
back-off; a Graph token is reused until it expires instead of fetched for every call.

Payloads: Google's documented error body for rate limits ("Handle API errors", Calendar API) and
Graph's documented throttling answer ("Microsoft Graph throttling guidance")."""

import pytest

from webapp.calendars import CalendarError
from webapp.calendars.microsoft import GraphClient
from webapp.calendars.sync import sync_watch
from webapp.models import Integration

from .conftest import TOKEN_RESPONSE, error, events_list, payload
from .test_broken_integration import google_acme  # noqa: F401 (a fixture)
from .test_microsoft import DELTA_PATH, contoso, delta, graph, login  # noqa: F401 (fixtures)

THROTTLED = payload("microsoft/too_many_requests.json")


def test_graph_429_waits_as_retry_after_says_then_succeeds(contoso, graph):  # noqa: F811
    graph.serve("GET", DELTA_PATH, 429, THROTTLED, headers={"Retry-After": "7"})
    graph.serve("GET", DELTA_PATH, 429, THROTTLED)  # no Retry-After: Docket's own pause
    graph.serve("GET", DELTA_PATH, 200, delta())
    assert sync_watch(contoso.watch.id) is not None
    assert graph.sleeps == [7.0, 5]
    assert len([r for r in graph.requests if r[1] == DELTA_PATH]) == 3


def test_graph_503_is_waited_for_only_when_it_says_how_long(contoso, graph):  # noqa: F811
    unavailable = {"error": {"code": "serviceNotAvailable", "message": "The service is temporarily unavailable."}}
    graph.serve("GET", DELTA_PATH, 503, unavailable, headers={"Retry-After": "2"})
    graph.serve("GET", DELTA_PATH, 200, delta())
    sync_watch(contoso.watch.id)
    assert graph.sleeps == [2.0]


def test_graph_throttling_that_does_not_end_is_an_error_after_a_few_waits(contoso, graph):  # noqa: F811
    client = GraphClient(Integration.get_by_id(contoso.integration.id))
    graph.serve("GET", DELTA_PATH, 429, THROTTLED, headers={"Retry-After": "600"})
    with pytest.raises(CalendarError, match="429"):
        client.request("GET", DELTA_PATH)
    assert graph.sleeps == [120.0, 120.0, 120.0]  # each wait capped, then the error


def test_a_graph_token_is_reused_until_it_expires(contoso, graph, login):  # noqa: F811
    graph.serve("GET", DELTA_PATH, 200, delta())
    integration = Integration.get_by_id(contoso.integration.id)
    for _ in range(3):  # three jobs, each with its own client
        GraphClient(integration).request("GET", DELTA_PATH)
    assert len(login.posts) == 1


@pytest.mark.parametrize("answer", ["google/rate_limit_exceeded.json", "google/too_many_requests.json"])
def test_google_rate_limits_are_backed_off_exponentially(google_acme, google_http, answer):  # noqa: F811
    status = 403 if "rate_limit" in answer else 429
    http = google_http(TOKEN_RESPONSE, error(status, answer), error(status, answer), events_list())
    assert sync_watch(google_acme.watch.id) is not None
    assert len(http.sleeps) == 2
    assert 1 <= http.sleeps[0] < 2 and 2 <= http.sleeps[1] < 3


def test_a_google_quota_for_the_day_or_a_refusal_is_not_retried(google_acme, google_http):  # noqa: F811
    http = google_http(TOKEN_RESPONSE, error(403, "google/forbidden.json"))
    sync_watch(google_acme.watch.id)
    assert http.sleeps == []
    assert Integration.get_by_id(google_acme.integration.id).status == Integration.FAILING
