"""Configuration read from the environment, with the embedded defaults for development."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"

DEFAULT_DATABASE_URL = f"sqlite:///{VAR / 'docket.db'}"
DEFAULT_REDIS_SOCKET = VAR / "redis.sock"
DEFAULT_RULES_PATH = ROOT / "rules.yaml"
# The default rulebook's timeline tests, which ship beside it.
DEFAULT_RULE_TESTS_PATH = ROOT / "rules.tests"
# Used only in development and tests; create_app refuses it elsewhere.
DEVELOPMENT_SECRET_KEY = "development-only-not-secret"


class Config:
    """Settings for one app instance; every value can be overridden from the environment."""

    def __init__(self, environ=None):
        env = os.environ if environ is None else environ
        self.ENV = env.get("DOCKET_ENV", "development")
        self.DATABASE_URL = env.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        self.REDIS_URL = env.get("REDIS_URL") or f"unix://{DEFAULT_REDIS_SOCKET}"
        self.RULES_PATH = env.get("RULES_PATH") or str(DEFAULT_RULES_PATH)
        # The folder of RULES_PATH's timeline tests (*.yaml), which a draft's unchanged rules must pass.
        self.RULE_TESTS_PATH = env.get("RULE_TESTS_PATH") or str(DEFAULT_RULE_TESTS_PATH)
        self.PORT = int(env.get("PORT") or 5000)
        self.SECRET_KEY = env.get("SECRET_KEY") or (
            DEVELOPMENT_SECRET_KEY if self.ENV in ("development", "test") else None
        )
        self.QUEUE_NAME = env.get("DOCKET_QUEUE", "docket")
        # The Bearer token Prometheus scrapes /metrics with; unset, only this host may (views/ops.py).
        self.METRICS_TOKEN = env.get("METRICS_TOKEN") or ""
        # Where vendors reach this Docket (webhook URLs the CLI and admin page print).
        self.PUBLIC_URL = env.get("PUBLIC_URL") or env.get("DOCKET_PUBLIC_URL") or ""
        # Where `make run` keeps the demo's sign-ins (var/demo-credentials.txt when unset).
        self.DEMO_CREDENTIALS_FILE = env.get("DEMO_CREDENTIALS_FILE") or ""
        # How often each ATS's API is polled for new stages and interviews.
        self.SYNC_INTERVAL_SECONDS = float(env.get("SYNC_INTERVAL_SECONDS") or 300)
        # Inbox processing: how many events one transaction takes, and retries. On SQLite a batch
        # holds the write lock, but gives way after the row in hand to a webhook waiting for it
        # (db.web_waiting), so a batch can be large: its fixed costs are shared by more events.
        self.INBOX_BATCH_SIZE = int(env.get("INBOX_BATCH_SIZE") or 100)
        # A batch stops taking rows after this long, so that other accounts get their turn.
        self.INBOX_BATCH_SECONDS = float(env.get("INBOX_BATCH_SECONDS") or 1.0)
        self.INBOX_MAX_ATTEMPTS = int(env.get("INBOX_MAX_ATTEMPTS") or 5)
        self.INBOX_RETRY_BASE_SECONDS = float(env.get("INBOX_RETRY_BASE_SECONDS") or 2)
        self.SWEEP_INTERVAL_SECONDS = float(env.get("SWEEP_INTERVAL_SECONDS") or 10)
        # After a coordinator's action, how long the page waits for a worker to process its event,
        # so that the list they land on shows the task it completed.
        self.ACTION_WAIT_SECONDS = float(env.get("ACTION_WAIT_SECONDS") or 3)
        self.MAX_CONTENT_LENGTH = 1024 * 1024
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        # Secure when the app's public address is https (an https request marks them too: security.py).
        self.SESSION_COOKIE_SECURE = env.get("SESSION_COOKIE_SECURE", "") == "1" or self.PUBLIC_URL.startswith("https:")
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        # Seconds a remember-me cookie lasts, and the longest any sign-in lasts: auth.py refuses an
        # older one even when a copied cookie is replayed past its Expires.
        self.REMEMBER_COOKIE_DURATION = int(env.get("REMEMBER_COOKIE_DURATION") or 30 * 24 * 3600)
        # The time zone (IANA name) of people who have not said theirs: see webapp/timezones.py.
        self.DEFAULT_TIME_ZONE = env.get("DEFAULT_TIME_ZONE") or "UTC"
        # Notifications (webapp/notifications.py): the SMTP server and sender of every e-mail, the
        # address its links start with, where Slack webhooks must point, and retries of a failed send.
        self.SMTP_URL = env.get("SMTP_URL") or ""
        self.MAIL_FROM = env.get("MAIL_FROM") or "Docket <docket@localhost>"
        self.BASE_URL = (env.get("BASE_URL") or self.PUBLIC_URL or f"http://127.0.0.1:{self.PORT}").rstrip("/")
        self.SLACK_WEBHOOK_BASE = env.get("SLACK_WEBHOOK_BASE") or "https://hooks.slack.com/"
        self.DIGEST_TIME = env.get("DIGEST_TIME") or "07:30"
        self.NOTIFY_RETRY_BASE_SECONDS = float(env.get("NOTIFY_RETRY_BASE_SECONDS") or 30)
        self.NOTIFY_MAX_ATTEMPTS = int(env.get("NOTIFY_MAX_ATTEMPTS") or 20)
        self.WTF_CSRF_TIME_LIMIT = None
        self.TESTING = self.ENV == "test"

    def as_dict(self):
        """The settings as the mapping Flask's config takes."""
        return {k: v for k, v in vars(self).items() if k.isupper()}
