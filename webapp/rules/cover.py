"""Who covers for whom: the absences the assignee resolvers consult, so that a person away when an
event happened is replaced by their backup (or their backup's, down the chain), and a chain that
ends with nobody or comes back on itself passes the task on to the rule's next resolver."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Away:
    """One person's absence: from starts_at until ends_at (UTC, the end excluded), and who covers
    for them then (a person {email, name}), or None for nobody."""

    email: str
    starts_at: datetime
    ends_at: datetime
    backup: Mapping[str, str] | None = None

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


@dataclass(frozen=True)
class Cover:
    """A person found away: who covers for them (None when nobody can), and why, in words."""

    away: Mapping[str, str]
    person: Mapping[str, str] | None
    why: str


def _email(person: Mapping[str, str]) -> str:
    return str(person.get("email") or "").strip().lower()


class Absences:
    """The absences of one account, by e-mail: pure data the engine asks who is away when."""

    def __init__(self, absences: Iterable[Away] = ()):
        self._by_email: dict[str, list[Away]] = {}
        for away in absences:
            self._by_email.setdefault(away.email.strip().lower(), []).append(away)

    def __bool__(self) -> bool:
        return bool(self._by_email)

    def away_at(self, email: str, at: datetime) -> Away | None:
        """The absence of the person with this e-mail at `at`, or None when they are at work."""
        return next((a for a in self._by_email.get(email.strip().lower(), ()) if a.covers(at)), None)

    def cover(self, person: Mapping[str, str], at: datetime) -> Cover | None:
        """None when `person` is not away at `at`; else the Cover: the first of their backup chain
        who is not away then, or nobody when the chain ends without a backup or loops back."""
        away = self.away_at(_email(person), at)
        if away is None:
            return None
        chain = [_email(person)]
        while True:
            backup = away.backup
            if not backup or not _email(backup):
                return Cover(person, None, f"{_are_away(chain)} with no backup")
            if _email(backup) in chain:
                return Cover(person, None, f"{_are_away(chain)}, and the backups loop back to {_email(backup)}")
            away = self.away_at(_email(backup), at)
            if away is None:
                return Cover(person, dict(backup), f"{_are_away(chain)}; {_email(backup)} covers")
            chain.append(_email(backup))


def _are_away(emails: list[str]) -> str:
    if len(emails) == 1:
        return f"{emails[0]} is away"
    return f"{', '.join(emails[:-1])} and {emails[-1]} are away"
