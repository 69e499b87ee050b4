"""Each account's rulebook, one concern per module: the rulebook in force and its caches
(current), checking a draft and running its rule tests (drafts), saved versions (versions),
previewing a draft by replaying recent events (preview) and explaining one inbox row (explain).
Callers import the names they use from here; the pipeline, below the integrations that preview
and explain call, imports `current` alone.
"""

from .current import current_rulebook, in_force, rulebook_for, rulebook_of_version, rulebooks_for
from .drafts import assess
from .explain import explain_row
from .preview import DEFAULT_REPLAY_EVENTS, replay
from .versions import REMOVAL_CHOICES, SaveRefused, compared, history, restore_version, save_version

__all__ = [
    "DEFAULT_REPLAY_EVENTS",
    "REMOVAL_CHOICES",
    "SaveRefused",
    "assess",
    "compared",
    "current_rulebook",
    "explain_row",
    "history",
    "in_force",
    "replay",
    "restore_version",
    "rulebook_for",
    "rulebook_of_version",
    "rulebooks_for",
    "save_version",
]
