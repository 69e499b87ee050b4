"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""

import gc

from webapp import create_app

app = create_app()
# What loading the app made lives as long as the process: keep it out of the garbage
# collector's full passes, which otherwise add ~25 ms to one request in ten on a long
# task list (and, with gunicorn's preload, out of copy-on-write after the fork).
gc.freeze()
