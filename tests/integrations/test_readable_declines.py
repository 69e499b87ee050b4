# ruff: noqa: F811 (fixtures imported from test_harvest_scheduled_interviews)
"""A decline says who declined what, by name: the candidate, the interview and its time, and the
interviewer, from the mirror, though the calendar's answer names only the schedule and an e-mail
(Greenhouse's documented stage move and scheduled interview, behind a fake Harvest)."""

import re

from tests.helpers import sign_in
from webapp.models import Task

from .test_harvest_scheduled_interviews import (  # noqa: F401 (fixtures)
    KATE,
    acme,
    decline,
    moved_into_assessment,
    scheduled,
    sync,
)


def _text(html):
    """The page's main content as a reader sees it: tags dropped, spaces collapsed."""
    main = html.split('id="main"')[-1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def test_a_decline_names_the_candidate_the_interview_its_time_and_who_declined(
    client, harvest, acme, drain, moved_into_assessment
):
    harvest.serve("/scheduled_interviews", [scheduled()])
    sync(acme)
    drain()
    decline(acme, KATE)  # the calendar's answer: the schedule's id and Kate's e-mail, nothing else
    drain()
    task = Task.get(Task.rule_id == "interviewer_declined")
    sign_in(client, acme.user.email)
    page = _text(client.get(f"/tasks/{task.id}").get_data(as_text=True))

    assert "The interviewer Kate Austen declined the invite to the Assessment interview of Giuseppe Hurley" in page
    assert "Candidate Giuseppe Hurley" in page
    assert "Declined by Kate Austen kate.austen@example.com" in page
    assert re.search(r"Interview Assessment · Thu 03 Dec 2026, 15:00\s*–\s*16:00 UTC", page)
    assert "Stage Assessment" in page and "Job Designer" in page
    assert "Schedules of Giuseppe Hurley" in page  # the way to the candidate's schedules
    # No raw ids where the mirror knows a name: not Greenhouse's candidate, application or stage ids.
    for raw in ("265277", "71416", task.subjects["candidate"]["id"], task.subjects["schedule"]["id"]):
        assert raw not in page, raw
