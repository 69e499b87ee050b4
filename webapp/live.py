"""Live updates of open task lists: the worker and the views publish "tasks changed" per account on
Redis pub/sub, and each open list page follows its account's channel as server-sent events.

A message only says that something changed; the page then asks for its own update as its poll
does, so a lost message costs at most one poll interval, never a wrong list.
"""

import logging
import time

import redis
from flask import current_app

from .queue import redis_connection

log = logging.getLogger(__name__)

# An open stream holds a web thread and a Redis connection: it ends after this long and the
# browser's EventSource reconnects, so neither is held by a page that went away unnoticed.
DEFAULT_STREAM_SECONDS = 60
# A comment line this often keeps proxies from closing an idle stream and finds dead clients.
DEFAULT_HEARTBEAT_SECONDS = 15
# How soon the browser reconnects after a stream ended (its own default is about 3 s).
RECONNECT_MILLISECONDS = 500
CHANGED = "changed"


def channel(account_id):
    """The Redis channel on which an account's task changes are announced."""
    return f"docket:{current_app.config['QUEUE_NAME']}:account:{account_id}"


def publish_changes(account_ids):
    """Announce that the tasks of these accounts changed; never raises (Redis being away is logged,
    and open pages catch up by polling)."""
    account_ids = sorted(set(account_ids))
    if not account_ids:
        return
    try:
        pipe = redis_connection().pipeline(transaction=False)
        for account_id in account_ids:
            pipe.publish(channel(account_id), CHANGED)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("could not announce task changes for accounts %s: %s", account_ids, exc)


def subscribe(account_id):
    """A pub/sub connection following the account's channel, its subscription confirmed, so that
    nothing published from now on is missed; raises redis.RedisError when Redis is away."""
    pubsub = redis_connection().pubsub()
    try:
        pubsub.subscribe(channel(account_id))
        if pubsub.get_message(timeout=2) is None:
            raise redis.TimeoutError("no subscription confirmation from Redis")
    except BaseException:
        pubsub.close()
        raise
    return pubsub


def event_stream(pubsub, resumed=False, seconds=None, heartbeat=None):
    """The text/event-stream of a subscription: an `event: tasks` whenever the account's tasks
    change (a burst of changes makes one event), a comment every heartbeat, ending after seconds.

    Every stream names an id, so that the browser's reconnection says Last-Event-ID: a resumed
    stream starts with an event, since a change may have been announced while it was away.
    Closes the subscription when it ends or the client goes away.
    """
    seconds = DEFAULT_STREAM_SECONDS if seconds is None else seconds
    heartbeat = DEFAULT_HEARTBEAT_SECONDS if heartbeat is None else heartbeat
    try:
        yield f"retry: {RECONNECT_MILLISECONDS}\nid: docket\n\n"
        if resumed:
            yield _tasks_event()
        now = time.monotonic()
        ends, beat = now + seconds, now + heartbeat
        while now < ends:
            message = pubsub.get_message(ignore_subscribe_messages=True, timeout=max(0.0, min(beat, ends) - now))
            if message is not None:
                while pubsub.get_message(ignore_subscribe_messages=True, timeout=0) is not None:
                    pass  # the same news: one refresh covers them all
                yield _tasks_event()
            now = time.monotonic()
            if now >= beat:
                yield ": still here\n\n"
                beat = now + heartbeat
    except redis.RedisError as exc:
        log.warning("a live task stream lost Redis: %s", exc)  # the browser reconnects
    finally:
        pubsub.close()


def _tasks_event():
    return f"event: tasks\ndata: {CHANGED}\n\n"
