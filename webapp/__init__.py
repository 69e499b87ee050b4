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

    from . import auth, cli, db, extensions, security
    from .views import admin_integrations, api, errors, tasks, webhooks
    from .views import auth as auth_views

    db.init_app(app)
    extensions.init_app(app)
    auth.init_app(app)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(admin_integrations.bp)
    from .views import schedules
    from .views import setup as setup_views

    app.register_blueprint(schedules.bp)
    app.register_blueprint(setup_views.bp)
    # Token-authenticated and signature-verified: neither carries a session cookie's authority.
    extensions.csrf.exempt(api.bp)
    extensions.csrf.exempt(webhooks.bp)
    from .views import admin_inbox, admin_people, admin_rules

    app.register_blueprint(admin_rules.bp)
    app.register_blueprint(admin_inbox.bp)
    app.register_blueprint(admin_people.bp)
    cli.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    return app
