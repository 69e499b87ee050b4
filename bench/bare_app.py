"""A bare Flask app: the baseline for what gunicorn and Flask alone cost per request."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def noop():
    return "ok"
