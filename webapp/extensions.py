"""Flask extensions, created unbound and bound to the app in create_app."""

from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

login_manager = LoginManager()
csrf = CSRFProtect()
htmx = Htmx()


def init_app(app):
    """Bind the sign-in manager, CSRF protection and htmx to the app."""
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
