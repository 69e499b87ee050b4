"""Command-line administration: `flask --app wsgi COMMAND`."""

import click
from flask import current_app
from peewee import IntegrityError

from . import db
from .cli_support import account_named
from .db import database
from .integrations.cli import connect, sync
from .models import Account, ApiToken, User
from .rulebook_cli import rulebook_group
from .rules.cli import rules


def init_app(app):
    """Add every command and command group to `flask`."""
    administration = (init_db, create_account, create_user, create_token, retry_failed)
    development = (demo, serve)
    integrations = (connect, sync)
    groups = (rules, rulebook_group)  # flask rules …, flask rulebook …
    for command in (*administration, *development, *integrations, *groups):
        app.cli.add_command(command)


@click.command("init-db")
def init_db():
    """Create the database or upgrade it to the current schema."""
    applied = db.migrate()
    click.echo(f"database ready ({len(applied)} migration(s) applied)")


@click.command("create-account")
@click.argument("name")
def create_account(name):
    """Create an account and print its webhook key."""
    try:
        account = Account.create(name=name)
    except IntegrityError:
        raise click.ClickException(f"an account named {name!r} exists already") from None
    click.echo(f"account {account.name} created; webhook key: {account.webhook_key}")


@click.command("create-user")
@click.argument("email")
@click.option("--account", "account_name", required=True, help="The account's name.")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--password", default=None, help="Without it the user cannot sign in with a password yet.")
@click.option("--admin", is_flag=True, help="Make the user an admin of the account.")
def create_user(email, account_name, name, password, admin):
    """Create a user of an account (or update the name, password and admin flag of one)."""
    account = account_named(account_name)
    with database.atomic():
        user = User.for_email(account, email, name)
        user.name = name
        user.is_admin = user.is_admin or admin
        if password:
            user.set_password(password)
        user.save()
    click.echo(f"user {user.email} of {account.name} ready{' (admin)' if user.is_admin else ''}")


@click.command("create-token")
@click.argument("email")
@click.option("--account", "account_name", default=None, help="Needed when the e-mail is in several accounts.")
def create_token(email, account_name):
    """Issue an API token for a user and print it (it is shown only once)."""
    query = User.select().where(User.email == email.strip().lower())
    if account_name:
        query = query.where(User.account == account_named(account_name))
    users = list(query)
    if not users:
        raise click.ClickException(f"no user {email}")
    if len(users) > 1:
        raise click.ClickException(f"{email} is in several accounts: name one with --account")
    click.echo(ApiToken.issue(users[0]))


@click.command("retry-failed")
@click.option("--account", "account_name", default=None)
@click.argument("event_ids", nargs=-1, type=int)
def retry_failed(account_name, event_ids):
    """Put failed inbox events back in the queue (all, or the ids given)."""
    from .pipeline import retry_failed as retry

    account = account_named(account_name) if account_name else None
    count = retry(account, event_ids)
    click.echo(f"{count} event(s) queued again")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the demo account exists already.")
def demo(if_empty):
    """Create a demo account with coordinators, jobs and candidates, and play events into it."""
    from .demo import CREDENTIALS_FILE, DEMO_ACCOUNT, load_demo

    if if_empty and Account.get_or_none(Account.name == DEMO_ACCOUNT):
        click.echo("demo data present; nothing to do")
        return
    passwords = load_demo(current_app.config.get("DEMO_CREDENTIALS_FILE") or CREDENTIALS_FILE)
    click.echo(f"demo account {DEMO_ACCOUNT!r} ready; sign in with:")
    for email, password in passwords.items():
        click.echo(f"  {email}  {password}")


@click.command("serve")
@click.option("--port", type=int, default=None)
@click.option("--demo/--no-demo", default=False, help="Load the demo account on first run and keep it living.")
def serve(port, demo):
    """Run everything for development: embedded Redis (if REDIS_URL is unset), a worker and the web app."""
    from .devserver import run_all

    run_all(current_app._get_current_object(), port or current_app.config["PORT"], demo=demo)
