"""What operators and their machines ask a web process: is it alive, is it ready, and its figures."""

import hmac

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from ..db import database
from ..metrics import DocketCollector
from ..queue import redis_connection
from .errors import json_error

bp = Blueprint("ops", __name__)
LOOPBACK = ("127.0.0.1", "::1")


@bp.get("/healthz")
def healthz():
    """Liveness: the process answers; nothing it depends on is asked."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Readiness: the database and Redis answer; 503 naming what failed otherwise."""
    checks = {"database": lambda: database.execute_sql("SELECT 1"), "redis": lambda: redis_connection().ping()}
    report = {}
    for name, check in checks.items():
        try:
            check()
            report[name] = "ok"
        except Exception as exc:  # a probe reports what failed rather than crashing
            report[name] = f"error: {type(exc).__name__}"
    ready = all(value == "ok" for value in report.values())
    return jsonify(status="ready" if ready else "not ready", **report), 200 if ready else 503


# Probes answer without the connection every other request opens first (db.init_app).
healthz.without_database = readyz.without_database = True


def _may_scrape():
    """With METRICS_TOKEN set, its Bearer token; without, only a request from this host that no
    proxy forwarded."""
    token = current_app.config["METRICS_TOKEN"]
    if token:
        return hmac.compare_digest(request.headers.get("Authorization", "").encode(), f"Bearer {token}".encode())
    return request.remote_addr in LOOPBACK and "X-Forwarded-For" not in request.headers


@bp.get("/metrics")
def metrics():
    """Prometheus' text format: the workers' totals from Redis and the inbox's depth, no account's data."""
    if not _may_scrape():
        response = json_error(401, "unauthorized", "/metrics wants the METRICS_TOKEN as a Bearer token")
        response.headers["WWW-Authenticate"] = 'Bearer realm="docket-metrics"'
        return response
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DocketCollector(redis_connection(), current_app.config["QUEUE_NAME"]))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
