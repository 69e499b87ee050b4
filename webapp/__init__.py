"""Docket: one task list for interview coordinators, built from the ATS and calendars."""

import os

from flask import Flask

from .config import Config


def create_app(config=None):
    """Build the app: configuration, database, auth, CSRF, views and CLI. No work at import."""
    app = Flask(
        __name__,
        template_folder=os.path.join(os.path.dirname(__file__), "..", "templates"),
        static_folder=os.path.join(os.path.dirname(__file__), "..", "static"),
    )
    settings = Config().as_dict()
    settings.update(config or {})
    app.config.from_mapping(settings)
    if not app.config["SECRET_KEY"]:
        raise RuntimeError(f"SECRET_KEY must be set outside development (DOCKET_ENV={app.config['ENV']})")

    from . import auth, cli, db, extensions, security, timezones, views

    for part in (db, extensions, auth, timezones, views, cli, security):
        part.init_app(app)
    return app
