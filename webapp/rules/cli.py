"""The `rules` command group: check, test and explain a rulebook from the command line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from . import engine
from .engine import EventError
from .loader import RulebookError, load_rulebook_file
from .model import Rulebook
from .templates import TemplateRenderError
from .timeline import TimelineError, run_test_file

DEFAULT_RULES_PATH = "rules.yaml"


def default_rules_path() -> str:
    """RULES_PATH from the environment, else rules.yaml in the working directory."""
    return os.environ.get("RULES_PATH") or DEFAULT_RULES_PATH


def load_or_exit(path: str) -> Rulebook:
    """The rulebook at `path`; prints every problem and exits with 1 when there are any."""
    try:
        return load_rulebook_file(path)
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except RulebookError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        count = len(exc.problems)
        click.echo(f"{path}: {count} problem{'s' if count != 1 else ''}")
        raise SystemExit(1) from exc


@click.group("rules")
def rules() -> None:
    """Check, test and explain the rulebook."""


@rules.command("check")
@click.argument("path", required=False)
def check(path: str | None) -> None:
    """Validate a rulebook (default: $RULES_PATH or rules.yaml)."""
    path = path or default_rules_path()
    rulebook = load_or_exit(path)
    count = len(rulebook.rules)
    click.echo(f"{path}: OK, {count} rule{'s' if count != 1 else ''}")


@rules.command("test")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--rules", "rules_path", help="Rulebook for test files that name none.")
def test(files: tuple[str, ...], rules_path: str | None) -> None:
    """Run timeline tests: events in arrival order and the tasks expected after them."""
    default = None
    if rules_path or Path(default_rules_path()).exists():
        default = load_or_exit(rules_path or default_rules_path())
    passed = failed = 0
    for file in files:
        click.echo(f"Unit testing: {file}")
        try:
            results = run_test_file(file, default)
        except (TimelineError, RulebookError) as exc:
            click.echo(f"  ERROR {exc}")
            failed += 1
            continue
        for result in results:
            if result.passed:
                passed += 1
                click.echo(f"  PASS  {result.name}")
            else:
                failed += 1
                click.echo(f"  FAIL  {result.name}")
                for failure in result.failures:
                    click.echo("        " + failure.replace("\n", "\n        "))
    click.echo(f"{passed} passed, {failed} failed")
    if failed:
        raise SystemExit(1)


@rules.command("explain")
@click.argument("event_file", type=click.File("r"))
@click.option(
    "--rules",
    "rules_path",
    help="Rulebook to use (default: $RULES_PATH or rules.yaml).",
)
def explain(event_file, rules_path: str | None) -> None:
    """Say for every rule whether EVENT_FILE (a JSON envelope) opens or completes tasks, and if not why."""
    rulebook = load_or_exit(rules_path or default_rules_path())
    try:
        event = json.load(event_file)
        explanations = engine.explain(rulebook, event)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{event_file.name}: not JSON: {exc}") from exc
    except (EventError, TemplateRenderError) as exc:
        raise click.ClickException(f"{event_file.name}: {exc}") from exc
    for explanation in explanations:
        if explanation.triggered or explanation.resolves:
            click.echo(f"{explanation.rule_id}: {explanation.reason}")
        else:
            click.echo(f"{explanation.rule_id}: no — {explanation.reason}")
