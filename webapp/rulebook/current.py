"""The rulebook each account runs now, and the caches that make looking it up cheap.

An account starts from the default rulebook (RULES_PATH, normally rules.yaml); its first save
makes a version of its own, and from then on the account runs its newest version. Workers look
up the newest version id of each account once per batch, so a save is in force from the next
event on, without a restart.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from ..models import Account, RulebookVersion
from ..rules import RulebookError, load_rulebook, load_rulebook_file

log = logging.getLogger(__name__)

_lock = threading.Lock()
_file_cache = {}  # path -> (mtime, rulebook)


def current_rulebook():
    """The default rulebook (RULES_PATH); a broken edit on disk keeps the last valid one in force."""
    path = current_app.config["RULES_PATH"]
    mtime = os.stat(path).st_mtime_ns
    with _lock:
        cached = _file_cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
        try:
            rulebook = load_rulebook_file(path)
        except RulebookError as exc:
            if cached is None:
                raise
            log.error("%s is invalid, keeping the last valid rulebook in force:\n%s", path, exc)
            _file_cache[path] = (mtime, cached[1])
            return cached[1]
        _file_cache[path] = (mtime, rulebook)
        return rulebook


def default_text():
    """The default rulebook's text, as an account without versions starts from."""
    return Path(current_app.config["RULES_PATH"]).read_text(encoding="utf-8")


def rulebook_for(account):
    """The rulebook in force for one account (an Account or its id)."""
    account_id = getattr(account, "id", account)
    return rulebooks_for({account_id})[account_id]


def rulebook_of_version(account, version_id):
    """The rulebook in force for an account whose newest version id is already known (None: the default)."""
    return _version_rulebook(getattr(account, "id", account), version_id)


def rulebooks_for(account_ids):
    """{account id: rulebook in force} for several accounts, with one query for their newest versions."""
    latest = RulebookVersion.latest_ids(set(account_ids))
    return {account_id: _version_rulebook(account_id, latest.get(account_id)) for account_id in account_ids}


def load_all():
    """Load the default rulebook and every account's version in force into this process's caches
    (a worker does it before it forks a work horse, which inherits them instead of loading its
    own); cheap when nothing changed: the file's mtime and one query for the newest version ids."""
    current_rulebook()
    return rulebooks_for({account.id for account in Account.select(Account.id)})


def _version_cache():
    """This app's cache of each account's rulebook in force: {account id: (version id, rulebook)}.

    Kept per app, not per process, so that each app (and each test's app) starts afresh.
    """
    return current_app.extensions.setdefault("docket_rulebooks", {})


def _version_rulebook(account_id, version_id):
    if version_id is None:
        return current_rulebook()
    cache = _version_cache()
    with _lock:
        cached = cache.get(account_id)
    if cached is not None and cached[0] == version_id:
        return cached[1]
    version = RulebookVersion.get_by_id(version_id)
    try:
        rulebook = load_rulebook(version.text, f"version {version.number}", render_examples=False)
    except RulebookError as exc:
        # Saved versions were valid when saved; an engine upgrade may have made one invalid.
        rulebook = cached[1] if cached else current_rulebook()
        log.error(
            "rulebook version %s of account %s no longer loads; keeping the last valid one:\n%s",
            version.number,
            account_id,
            exc,
        )
    with _lock:
        cache[account_id] = (version_id, rulebook)
    return rulebook


@dataclass
class InForce:
    """What an account runs now: the text, its tests, and the version it comes from (None: the default)."""

    text: str
    tests: str
    version: RulebookVersion | None

    @property
    def label(self):
        return f"version {self.version.number}" if self.version else "the default rulebook"


def in_force(account):
    """The account's rulebook in force as text, with its tests and version."""
    version = RulebookVersion.latest(account)
    if version is None:
        return InForce(default_text(), "", None)
    return InForce(version.text, version.tests, version)


def _as_account(account):
    """An Account from an Account or its id (enrichment names the account in events)."""
    return account if isinstance(account, Account) else Account.get_by_id(account)
