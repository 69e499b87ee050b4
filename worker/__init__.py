"""The RQ worker that turns queued inbox events into tasks."""
