"""The RQ queue that wakes workers when the inbox has events to process.

The inbox (a database table) is the source of truth; Redis only carries
wake-up calls. One pending "drain" job is enough however many events
arrive, so a short-lived flag keeps the queue from filling with them.
"""

import logging
import os

import redis
from flask import current_app
from rq import Queue, Worker

log = logging.getLogger(__name__)

DRAIN_JOB = "worker.jobs.drain_inbox"
DRAIN_FLAG_TTL_SECONDS = 5


_clients = {}


def redis_connection(url=None):
    """A Redis client for REDIS_URL (a unix:// socket in the embedded default), one per URL and process.

    A client holds a connection pool; making one per request would open a new
    connection for every event received.
    """
    url = url or current_app.config["REDIS_URL"]
    key = (os.getpid(), url)  # a forked process must not share its parent's sockets
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
    return client


def get_queue(connection=None):
    return Queue(current_app.config["QUEUE_NAME"], connection=connection or redis_connection())


def _flag_key():
    return f"docket:{current_app.config['QUEUE_NAME']}:drain-scheduled"


def request_drain(connection=None, force=False):
    """Ask a worker to process the inbox; False if Redis could not be reached.

    The sweeper catches anything a failed request leaves pending, so callers
    that already committed an event can answer the sender regardless.
    """
    try:
        conn = connection or redis_connection()
        if force or conn.set(_flag_key(), 1, nx=True, ex=DRAIN_FLAG_TTL_SECONDS):
            get_queue(conn).enqueue(DRAIN_JOB, job_timeout=600, result_ttl=0, failure_ttl=3600)
        return True
    except redis.RedisError as exc:
        log.warning("could not ask a worker to process the inbox: %s", exc)
        return False


def clear_drain_flag(connection):
    """Called as a drain starts, so that events arriving during it schedule another."""
    connection.delete(_flag_key())


def has_workers(connection=None):
    """True when some worker listens on the queue; False too when Redis cannot be reached."""
    try:
        return Worker.count(queue=get_queue(connection or redis_connection())) > 0
    except redis.RedisError:
        return False
