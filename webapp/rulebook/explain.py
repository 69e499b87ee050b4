"""Explain one inbox row: what every rule of the rulebook in force makes of each envelope it stands for."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..absences import routing_for
from ..row_events import enriched_events
from ..rules.engine import EventError, explain
from ..rules.templates import TemplateRenderError
from .current import _as_account, rulebook_for


@dataclass
class ExplainedEnvelope:
    """One envelope an inbox row stands for, and what every rule of the rulebook makes of it."""

    envelope: dict
    explanations: list = field(default_factory=list)
    error: str | None = None


def explain_row(account, row):
    """Explain an inbox row with the rulebook in force now: the same `Rulebook.explain` as
    `flask rules explain`, on the row's envelopes enriched with Docket's records as they are now.

    Returns (list of ExplainedEnvelope, error reading the row or None). It only reads: vendor
    payloads are normalised again, and nothing is written.
    """
    account = _as_account(account)
    current = rulebook_for(account)
    row.account = account
    try:
        events = enriched_events(row)
    except Exception as exc:  # shown to the admin: the same error the worker would meet
        return [], f"{type(exc).__name__}: {exc}"
    explained = []
    away = routing_for([account.id]).get(account.id)  # who covers for whom, as the worker would see it
    for event in events:
        item = ExplainedEnvelope(event)
        try:
            item.explanations = explain(current, event, away)
        except (EventError, TemplateRenderError) as exc:
            item.error = str(exc)
        explained.append(item)
    return explained, None
