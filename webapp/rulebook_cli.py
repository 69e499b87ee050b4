"""The `rulebook` command group: export and import an account's rulebook, through the same checks
as the admin page's Save (valid, rule tests pass, a choice for removed rules' open tasks)."""

from pathlib import Path

import click

from . import rulebook
from .cli_support import account_named
from .models import RulebookVersion, User


@click.group("rulebook")
def rulebook_group():
    """Export, import and list the versions of an account's rulebook."""


@rulebook_group.command("export")
@click.option("--account", "account_name", required=True, help="The account's name.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write here (default: stdout).")
@click.option(
    "--tests", "tests_path", type=click.Path(dir_okay=False, writable=True), help="Also write its rule tests."
)
def export(account_name, output, tests_path):
    """Print (or write) the rulebook in force for an account."""
    force = rulebook.in_force(account_named(account_name))
    if output:
        Path(output).write_text(force.text, encoding="utf-8")
        click.echo(f"{account_name}: {force.label} written to {output}", err=True)
    else:
        click.echo(force.text, nl=False)
    if tests_path:
        Path(tests_path).write_text(force.tests, encoding="utf-8")


@rulebook_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--account", "account_name", required=True, help="The account's name.")
@click.option("--message", "-m", required=True, help="What changed, and why (kept in the history).")
@click.option("--tests", "tests_path", type=click.Path(exists=True, dir_okay=False), help="The account's rule tests.")
@click.option("--author", "author_email", help="The e-mail of the account's user to record as the author.")
@click.option(
    "--removed",
    multiple=True,
    metavar="RULE=complete|keep",
    help="What to do with the open tasks of a removed rule (repeat per rule).",
)
def import_(path, account_name, message, tests_path, author_email, removed):
    """Save PATH as the account's newest rulebook version, if it validates and its tests pass."""
    account = account_named(account_name)
    author = None
    if author_email:
        author = User.get_or_none(User.account == account, User.email == author_email.strip().lower())
        if author is None:
            raise click.ClickException(f"{author_email} is not a user of {account_name}")
    choices = {}
    for item in removed:
        rule_id, _, choice = item.partition("=")
        if choice not in rulebook.REMOVAL_CHOICES:
            raise click.ClickException(f"--removed {item}: say RULE=complete or RULE=keep")
        choices[rule_id] = choice
    text = Path(path).read_text(encoding="utf-8")
    tests = Path(tests_path).read_text(encoding="utf-8") if tests_path else rulebook.in_force(account).tests
    try:
        version = rulebook.save_version(account, text, tests, author=author, message=message, choices=choices)
    except rulebook.SaveRefused as refused:
        result = refused.assessment
        for problem in result.problems:
            click.echo(str(problem).replace("rules.yaml:", f"{path}:", 1), err=True)
        for line in result.test_problems + result.test_failures:
            click.echo(line, err=True)
        for rule_id, count in result.removed.items():
            if rule_id not in choices:
                click.echo(
                    f"rule {rule_id} is removed and has {count} open task(s): pass --removed {rule_id}=complete "
                    f"or --removed {rule_id}=keep",
                    err=True,
                )
        raise click.ClickException(f"not imported: {refused.reason}") from None
    click.echo(f"{account_name}: saved as version {version.number}")


@rulebook_group.command("history")
@click.option("--account", "account_name", required=True, help="The account's name.")
def history(account_name):
    """List an account's rulebook versions, newest first."""
    versions = RulebookVersion.history(account_named(account_name))
    if not versions:
        click.echo(f"{account_name} runs the default rulebook (no version saved)")
    for version in versions:
        who = version.author.email if version.author else "-"
        when = version.created_at.strftime("%Y-%m-%d %H:%M")
        click.echo(f"{version.number}\t{when}\t{who}\t{version.message}")
