"""Each account's rulebook in force, its saved versions, and the checks a draft must pass before
it replaces the one in force: valid, its rule tests green, and a decision for the open tasks of
any rule it removes. The web page and the CLI both save through `save_version`.

An account starts from the default rulebook (RULES_PATH, normally rules.yaml); its first save
makes a version of its own, and from then on the account runs its newest version. Workers look
up the newest version id of each account once per batch, so a save is in force from the next
event on, without a restart.

Which rule tests a draft must pass:
- the account's own tests, kept with each version (a timeline test document, the format of
  tests/rules/*.yaml without `rulebook:`), run in full against the draft;
- the shipped timeline tests (tests/rules/*.yaml, written for the default rulebook), restricted to
  the rules the draft keeps exactly as the default has them (same id, same definition, same
  defaults): an untouched rule must still behave as shipped; a rule the admin changed on purpose
  is covered by the account's own tests instead.
"""

from __future__ import annotations

import difflib
import logging
import os
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from flask import current_app
from peewee import IntegrityError

from .db import database
from .models import Account, Event, RulebookVersion, Task, TaskHistory, utcnow
from .rules import (
    MemoryStore,
    Problem,
    Rulebook,
    RulebookError,
    apply_event,
    load_rulebook,
    load_rulebook_file,
    safe_yaml,
)
from .rules.engine import EventError, explain
from .rules.templates import TemplateRenderError
from .rules.timeline import TimelineError, load_test_file, run_test_case

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TESTS_DIR = ROOT / "tests" / "rules"
DEFAULT_REPLAY_EVENTS = 500
# What may be done with the open tasks of a rule a version removes.
REMOVAL_CHOICES = ("complete", "keep")

_lock = threading.Lock()
_file_cache = {}  # path -> (mtime, rulebook)


# -- the rulebook in force -------------------------------------------------------------------


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


# -- checking a draft ----------------------------------------------------------------------------


@dataclass
class Assessment:
    """What stands between a draft and the rulebook in force."""

    text: str
    tests: str
    rulebook: Rulebook | None = None
    problems: list[Problem] = field(default_factory=list)
    test_problems: list[str] = field(default_factory=list)
    test_failures: list[str] = field(default_factory=list)
    tests_run: int = 0
    # Rules in force that the draft drops while they have open tasks: {rule_id: open count}.
    removed: dict[str, int] = field(default_factory=dict)
    removed_names: dict[str, str] = field(default_factory=dict)

    @property
    def valid(self):
        return self.rulebook is not None

    @property
    def tests_pass(self):
        return self.valid and not self.test_problems and not self.test_failures

    def problems_by_line(self):
        """{line: [problem, …]} for showing each problem beside its line."""
        by_line = defaultdict(list)
        for problem in self.problems:
            by_line[problem.line].append(problem)
        return dict(by_line)


def check(text, filename="rules.yaml"):
    """The draft's rulebook and problems: (Rulebook, []) or (None, [Problem, …])."""
    try:
        return load_rulebook(text, filename), []
    except RulebookError as exc:
        return None, list(exc.problems)


def assess(account, text, tests=""):
    """Check a draft: validity, rule tests, and which removed rules still have open tasks."""
    result = Assessment(text=text, tests=tests or "")
    result.rulebook, result.problems = check(text)
    if result.rulebook is None:
        return result
    run_rule_tests(result)
    kept = {rule.id for rule in result.rulebook.rules}
    dropped = {rule.id: rule.category for rule in rulebook_for(account).rules if rule.id not in kept}
    if dropped:
        counts = Task.open_counts_by_rule(account, set(dropped))
        result.removed = {rule_id: n for rule_id, n in sorted(counts.items()) if n}
        result.removed_names = {rule_id: dropped[rule_id] for rule_id in result.removed}
    return result


def _rule_definitions(text):
    """{rule id: the rule's mapping with the defaults it inherits}, from rulebook text."""
    document = safe_yaml.load(text) or {}
    defaults = document.get("defaults") or {}
    return {rule.get("id"): {**defaults, **rule} for rule in document.get("rules") or [] if isinstance(rule, dict)}


def unchanged_rules(rulebook):
    """The draft's rules that the default rulebook has exactly alike (defaults included)."""
    default = _rule_definitions(default_text())
    draft = _rule_definitions(rulebook.source_text)
    return {rule_id for rule_id, definition in draft.items() if default.get(rule_id) == definition}


def _restricted(case, rule_ids):
    """A test case whose expectations only name the given rules (the rest are not the test's concern)."""
    expectations = []
    for expectation in case.expectations:
        kept = dict(expectation)
        for kind in ("open", "completed"):
            if kind in kept:
                kept[kind] = [task for task in kept[kind] or [] if task["rule"] in rule_ids]
        expectations.append(kept)
    return type(case)(case.name, case.events, expectations)


def run_rule_tests(result):
    """Run the account's own tests and the shipped tests of unchanged rules; fill in the result."""
    draft = result.rulebook
    if result.tests.strip():
        try:
            cases = parse_tests(result.tests)
        except TimelineError as exc:
            result.test_problems.append(str(exc))
            cases = []
        for case in cases:
            outcome = run_test_case(draft, case, "account tests")
            result.tests_run += 1
            result.test_failures += [f"{case.name}: {failure}" for failure in outcome.failures]
    keep = unchanged_rules(draft)
    if not keep:
        return
    subset = Rulebook(draft.version, tuple(rule for rule in draft.rules if rule.id in keep), draft.source_text)
    folder = Path(current_app.config.get("RULE_TESTS_DIR") or DEFAULT_TESTS_DIR)
    for path in sorted(folder.glob("*.yaml")):
        _, cases = load_test_file(path)
        for case in cases:
            outcome = run_test_case(subset, _restricted(case, keep), path.name)
            result.tests_run += 1
            result.test_failures += [f"{path.name}: {case.name}: {failure}" for failure in outcome.failures]


def parse_tests(text):
    """An account's rule tests (a timeline test document without `rulebook:`) as test cases."""
    from .rules import timeline

    try:
        document = safe_yaml.load(text)
    except yaml.YAMLError as exc:
        raise TimelineError(f"rule tests: not valid YAML: {exc}") from exc
    timeline._check_keys(document, timeline.TEST_FILE_KEYS - {"rulebook"}, "rule tests")
    tests = document.get("tests")
    if not isinstance(tests, list) or not tests:
        raise TimelineError("rule tests: 'tests' must be a non-empty list")
    return [timeline._test_case(test, f"rule tests: tests[{i}]") for i, test in enumerate(tests)]


# -- saving ----------------------------------------------------------------------------------------


class SaveRefused(Exception):
    """The draft cannot replace the rulebook in force; `assessment` says why."""

    def __init__(self, assessment, reason):
        super().__init__(reason)
        self.assessment = assessment
        self.reason = reason


def save_version(account, text, tests="", author=None, message="", choices=None, restored_from=None):
    """Store the draft as the account's newest version, or raise SaveRefused.

    choices: {rule_id: "complete" | "keep"} for each removed rule that has open tasks; the
    choice is recorded in the version and in the history of each of those tasks.
    """
    result = assess(account, text, tests)
    if not result.valid:
        raise SaveRefused(result, "the rulebook has problems")
    if not result.tests_pass:
        raise SaveRefused(result, "rule tests fail")
    choices = {rule_id: choice for rule_id, choice in (choices or {}).items() if rule_id in result.removed}
    missing = [rule_id for rule_id in result.removed if choices.get(rule_id) not in REMOVAL_CHOICES]
    if missing:
        raise SaveRefused(result, "say what to do with the open tasks of " + ", ".join(missing))
    author_id = getattr(author, "id", author)
    for _ in range(3):
        try:
            with database.atomic():
                latest = RulebookVersion.latest(account)
                number = (latest.number if latest else 0) + 1
                version = RulebookVersion.create(
                    account=account,
                    number=number,
                    text=text,
                    tests=tests or "",
                    author=author_id,
                    message=message.strip() or f"Version {number}",
                    restored_from=restored_from,
                    removed_rules=choices,
                )
                _settle_removed_tasks(account, version, choices, author_id)
            return version
        except IntegrityError:
            continue  # another admin saved the same number a moment ago: take the next one
    raise SaveRefused(result, "the rulebook is being saved by someone else; try again")


def _settle_removed_tasks(account, version, choices, author_id):
    for task in Task.open_of_rules(account, set(choices)):
        choice = choices[task.rule_id]
        if choice == "complete":
            note = f"rule {task.rule_id} was removed in rulebook version {version.number}"
            task.status = Task.COMPLETED
            task.completed_at = utcnow()
            task.completed_by_user = author_id
            task.completed_by_event = None
            task.completed_on_behalf_of = None
            task.completion_reason = note
            task.save()
            TaskHistory.create(account=account, task=task, kind="completed", user=author_id, note=note)
        else:
            note = f"rule {task.rule_id} was removed in rulebook version {version.number}; the task was kept open"
            TaskHistory.create(account=account, task=task, kind="rule_removed", user=author_id, note=note)


def restore_version(account, number, author=None, choices=None, message=""):
    """Make an old version the newest again (as a new version), through the same checks as a save."""
    old = RulebookVersion.of_account(account, number)
    if old is None:
        raise LookupError(f"no version {number}")
    return save_version(
        account,
        old.text,
        old.tests,
        author=author,
        message=message or f"Restored version {number}",
        choices=choices,
        restored_from=number,
    )


# -- history ---------------------------------------------------------------------------------------


def diff_lines(old, new, old_name, new_name):
    """A unified diff of two rulebook texts, as (kind, line) pairs: kind is add, remove, hunk or same."""
    lines = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), old_name, new_name, lineterm="", n=2):
        if line.startswith(("+++", "---")):
            continue
        kind = {"+": "add", "-": "remove", "@": "hunk"}.get(line[:1], "same")
        lines.append((kind, line))
    return lines


def history(account):
    """The account's versions, newest first, each with its diff against the one before it."""
    versions = RulebookVersion.history(account)
    entries = []
    for index, version in enumerate(versions):
        before = versions[index + 1] if index + 1 < len(versions) else None
        old_text = before.text if before else default_text()
        old_name = f"version {before.number}" if before else "default rulebook"
        entries.append(
            {"version": version, "diff": diff_lines(old_text, version.text, old_name, f"version {version.number}")}
        )
    return entries


def _as_account(account):
    """An Account from an Account or its id (enrichment names the account in events)."""
    return account if isinstance(account, Account) else Account.get_by_id(account)


# -- preview: replaying recent events --------------------------------------------------------------


@dataclass
class Difference:
    """One task that the draft would handle differently from the rulebook in force."""

    rule_id: str
    category: str
    title: str
    key: dict
    in_force: str
    draft: str
    change: str


@dataclass
class Replay:
    """The outcome of replaying an account's recent events through two rulebooks."""

    events: int = 0
    envelopes: int = 0
    in_force_tasks: int = 0
    draft_tasks: int = 0
    differences: list[Difference] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _identity(task):
    return task.rule_id, tuple(sorted(task.key.items()))


def _summary(tasks):
    """What happened to the tasks of one (rule, key), in words, and the fields that matter."""
    parts = []
    for task in tasks:
        who = task.assignee_email or "nobody"
        if task.status == "open":
            parts.append(f"open, {task.priority}, for {who}")
        else:
            parts.append(f"opened and completed ({task.completion_reason})")
    return "; ".join(parts) if parts else "no task"


def _change(old, new):
    if not old:
        return "would open"
    if not new:
        return "would no longer open"
    old_open = any(t.status == "open" for t in old)
    new_open = any(t.status == "open" for t in new)
    if old_open and not new_open:
        return "would complete"
    if new_open and not old_open:
        return "would stay open"
    return "would differ"


def _fingerprint(tasks):
    return [(t.status, t.priority, t.assignee_email, t.title, t.completion_reason) for t in tasks]


def replay(account, draft, limit=DEFAULT_REPLAY_EVENTS):
    """Replay the account's last `limit` events through the rulebook in force and through the draft.

    Both run on empty in-memory task stores over the stored envelopes, enriched with Docket's
    records as they are now (not as they were then), so this is a replay, not a re-run of
    history. Vendor payloads are normalised again; anything that touches the database meanwhile
    is rolled back.
    """
    from . import mirror
    from .row_events import rulebook_events

    account = _as_account(account)
    result = Replay()
    current = rulebook_for(account)
    stores = {"in force": MemoryStore(), "draft": MemoryStore()}
    rulebooks = {"in force": current, "draft": draft}
    with database.atomic() as transaction:
        for row in Event.latest_of(account, limit):
            result.events += 1
            try:
                envelopes = rulebook_events(row)
            except Exception as exc:  # a row the pipeline could not read either; say so and go on
                result.errors.append(f"event {row.id}: cannot be read: {exc}")
                continue
            for envelope in envelopes:
                event = {
                    "id": str(row.external_id),
                    "source": row.source,
                    **envelope,
                    "data": mirror.enrich(account, envelope.get("data") or {}),
                }
                result.envelopes += 1
                for side, store in stores.items():
                    try:
                        apply_event(rulebooks[side], event, store)
                    except (EventError, TemplateRenderError) as exc:
                        result.errors.append(f"event {row.id} ({event.get('type')}), {side}: {exc}")
        transaction.rollback()
    grouped = {side: defaultdict(list) for side in stores}
    for side, store in stores.items():
        for task in store.tasks:
            grouped[side][_identity(task)].append(task)
    result.in_force_tasks = len(stores["in force"].tasks)
    result.draft_tasks = len(stores["draft"].tasks)
    for identity in sorted(set(grouped["in force"]) | set(grouped["draft"])):
        old, new = grouped["in force"].get(identity, []), grouped["draft"].get(identity, [])
        if _fingerprint(old) == _fingerprint(new):
            continue
        sample = (new or old)[0]
        result.differences.append(
            Difference(
                rule_id=identity[0],
                category=sample.category,
                title=sample.title,
                key=dict(identity[1]),
                in_force=_summary(old),
                draft=_summary(new),
                change=_change(old, new),
            )
        )
    return result


def change_counts(replay_result):
    """How many differences of each kind, for a one-line summary."""
    return Counter(difference.change for difference in replay_result.differences)


# -- explain: one inbox row through the rulebook in force ------------------------------------------


@dataclass
class ExplainedEnvelope:
    """One envelope an inbox row stands for, and what every rule of the rulebook makes of it."""

    envelope: dict
    explanations: list = field(default_factory=list)
    error: str | None = None


def explain_row(account, row):
    """Explain an inbox row with the rulebook in force now: the same `Rulebook.explain` as
    `flask rules explain`, on the row's envelopes enriched with Docket's records as they are now.

    Returns (list of ExplainedEnvelope, error reading the row or None). Vendor payloads are
    normalised again; anything that touches the database meanwhile is rolled back.
    """
    from . import mirror
    from .row_events import rulebook_events

    account = _as_account(account)
    current = rulebook_for(account)
    explained = []
    with database.atomic() as transaction:
        try:
            envelopes = rulebook_events(row)
        except Exception as exc:  # shown to the admin: the same error the worker would meet
            transaction.rollback()
            return [], f"{type(exc).__name__}: {exc}"
        for envelope in envelopes:
            event = {
                "id": str(row.external_id),
                "source": row.source,
                **envelope,
                "data": mirror.enrich(account, envelope.get("data") or {}),
            }
            item = ExplainedEnvelope(event)
            try:
                item.explanations = explain(current, event)
            except (EventError, TemplateRenderError) as exc:
                item.error = str(exc)
            explained.append(item)
        transaction.rollback()
    return explained, None
