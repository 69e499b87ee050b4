"""The RQ worker that turns queued inbox events into tasks."""


def __getattr__(name):
    # `rq worker -w worker.DocketWorker`: the worker class without running `python -m worker`.
    if name == "DocketWorker":
        from worker.__main__ import DocketWorker

        return DocketWorker
    raise AttributeError(name)
