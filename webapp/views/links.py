"""Where each task's recommended action is done: Docket's own form, else the ATS's page.

Rules are named here by id: a rule an admin adds links to the ATS (or the task's page)
until Docket has a form for it.
"""

from urllib.parse import quote

from flask import url_for
from peewee import Value

from ..models import Application, Candidate, Job


def action_urls(account, tasks, admin=True):
    """Where each task's recommended action is done: {task id: url}.

    Docket's own form when Docket can do it (schedule, edit a schedule, set up a job, a stage, an
    interview, reconnect an integration), else the ATS: the application's page, else the
    candidate's, else the job's, in one query for the whole page. Reconnecting is an admin's
    page: for anyone else a Broken Integration task links to its own page.
    """
    urls = _docket_action_urls(tasks, admin)
    rest = [task for task in tasks if task.id not in urls]
    if rest:
        urls.update(_ats_action_urls(account, rest))
    return urls


def _docket_action_urls(tasks, admin=True):
    """The Docket forms that resolve tasks, for the tasks whose records name them: {task id: path}."""
    # Each form's URL is built once with placeholders, then filled in per task: a page may have hundreds.
    forms = {
        "ready_to_schedule": ("schedules.new", {"application": "application", "stage": "stage"}),
        "schedule_cancelled": ("schedules.new", {"application": "application", "stage": "stage"}),
        "interviewer_declined": ("schedules.edit", {"external_id": "schedule"}),
        "room_declined": ("schedules.edit", {"external_id": "schedule"}),
        "candidate_declined": ("schedules.edit", {"external_id": "schedule"}),
        "new_job": ("setup.job", {"external_id": "job"}),
        "new_stage": ("setup.stage", {"external_id": "stage"}),
        "new_interview": ("setup.interview", {"external_id": "interview"}),
    }
    built = {}
    urls = {}
    for task in tasks:
        rule = task.rule_id
        if rule == "broken_integration":
            if admin:
                urls[task.id] = _integration_url(task, built)
            continue
        if rule not in forms:
            continue
        endpoint, params = forms[rule]
        subjects = task.subjects or {}
        values = {}
        for param, kind in params.items():
            value = (subjects.get(kind) or {}).get("id")
            if value in (None, ""):
                break
            values[f"@{param}@"] = quote(str(value), safe="")
        else:
            if endpoint not in built:
                built[endpoint] = url_for(endpoint, **{p: f"@{p}@" for p in params}, task="@task@").replace("%40", "@")
            url = built[endpoint].replace("@task@", str(task.id))
            for placeholder, value in values.items():
                url = url.replace(placeholder, value)
            urls[task.id] = url
    return urls


def _integration_url(task, built):
    """The integrations page at the broken integration's section (an ATS's or a calendar's)."""
    integration = (task.subjects or {}).get("integration") or {}
    provider = str(integration.get("provider") or "")
    if not provider.isalnum():
        return built.setdefault("broken_integration", url_for("admin_integrations.index"))
    prefix = "calendar" if integration.get("kind") == "calendar" else "integration"
    page = built.setdefault("broken_integration", url_for("admin_integrations.index"))
    return f"{page}#{prefix}-{provider}"


def _ats_action_urls(account, tasks):
    """Where each task's recommended action is done in the ATS, as far as the mirror knows."""
    wanted = {"application": set(), "candidate": set(), "job": set()}
    for task in tasks:
        for kind, ids in wanted.items():
            record = (task.subjects or {}).get(kind) or {}
            if record.get("id"):
                ids.add(str(record["id"]))
    parts = []
    for kind, model in (("application", Application), ("candidate", Candidate), ("job", Job)):
        if wanted[kind]:
            parts.append(
                model.select(Value(kind).alias("kind"), model.external_id, model.url).where(
                    model.account == account, model.external_id.in_(sorted(wanted[kind])), model.url.is_null(False)
                )
            )
    if not parts:
        return {}
    query = parts[0]
    for part in parts[1:]:
        query = query + part  # UNION ALL: one round trip
    found = {(kind, external_id): url for kind, external_id, url in query.tuples()}
    urls = {}
    for task in tasks:
        for kind in ("application", "candidate", "job"):
            record = (task.subjects or {}).get(kind) or {}
            url = found.get((kind, str(record.get("id"))))
            if _is_web_address(url):
                urls[task.id] = url
                break
    return urls


def _is_web_address(url):
    """Only an http(s) address from an ATS becomes a link: event data could carry `javascript:`."""
    return isinstance(url, str) and url.lower().startswith(("https://", "http://"))
