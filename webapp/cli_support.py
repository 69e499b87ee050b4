"""What the command-line groups share: finding an account by the name an admin typed."""

import click

from .models import Account


def account_named(name):
    """The account called `name`, or a ClickException that says there is none."""
    account = Account.get_or_none(Account.name == name)
    if account is None:
        raise click.ClickException(f"no account named {name!r}")
    return account
