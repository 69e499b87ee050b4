"""Docket's periodic work, for RQ's own cron scheduler: `rq cron worker/cron.py --url REDIS_URL`
(one or more per deployment; `python -m worker` runs one beside its worker). Every
SWEEP_INTERVAL_SECONDS it queues `worker.jobs.sweep`, which any worker on the queue runs."""

from rq import cron

from webapp.config import Config
from worker.jobs import sweep

settings = Config()
cron.register(
    sweep,
    settings.QUEUE_NAME,
    interval=max(1, round(settings.SWEEP_INTERVAL_SECONDS)),
    job_timeout=600,
    result_ttl=0,
    failure_ttl=3600,
)
