"""The rulebook in force: loaded from RULES_PATH, reloaded when the file changes, and never
replaced by a version that fails validation."""

import logging
import os
import threading

from flask import current_app

from .rules import RulebookError, load_rulebook_file

log = logging.getLogger(__name__)

_lock = threading.Lock()
_cache = {}  # path -> (mtime, rulebook)


def current_rulebook():
    """The valid rulebook for this app; a broken edit on disk keeps the last valid one in force."""
    path = current_app.config["RULES_PATH"]
    mtime = os.stat(path).st_mtime_ns
    with _lock:
        cached = _cache.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
        try:
            rulebook = load_rulebook_file(path)
        except RulebookError as exc:
            if cached is None:
                raise
            log.error("%s is invalid, keeping the last valid rulebook in force:\n%s", path, exc)
            _cache[path] = (mtime, cached[1])
            return cached[1]
        _cache[path] = (mtime, rulebook)
        return rulebook
