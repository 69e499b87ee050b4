"""gunicorn's settings for Docket's web processes: `gunicorn -c gunicorn.conf.py wsgi:app` (gunicorn
also reads this file by itself when started from this folder). Each figure can be set from the
environment; README.md's "Running at scale" says when to."""

import multiprocessing
import os

# Behind a proxy that terminates TLS; PORT as platforms that run containers set it.
bind = f"{os.environ.get('BIND_ADDRESS', '0.0.0.0')}:{os.environ.get('PORT', '5000')}"
# Processes: gunicorn's own rule of thumb, two per core and one more.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * multiprocessing.cpu_count() + 1)
# Threads, not one request per process: a page's live updates (server-sent events) hold a
# thread for as long as the page stays open, and must not hold a whole process.
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS") or 16)
# Load the app once in the master and fork it: less memory (gc.freeze in wsgi.py keeps it shared)
# and an app that fails to load stops the start. create_app opens no connection, so none crosses the fork.
preload_app = True
# A process whose main loop is silent this long is stuck and restarted (with threads, a long
# request or a live-update stream does not count). On SIGTERM, requests in flight get
# graceful_timeout seconds to finish.
timeout = int(os.environ.get("WEB_TIMEOUT") or 30)
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT") or 30)
keepalive = 5
# Access log on stdout: client, request line, status, bytes, milliseconds, user agent.
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
errorlog = "-"
# Only the proxy on this host may say that a request came in over https (X-Forwarded-Proto).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
