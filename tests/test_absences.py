"""Out of office: while a coordinator is away the tasks the rules would give them go to their backup
(down a chain of backups, never round a loop, else to the rule's next resolver), covering for them;
at the start their open tasks can be handed over, at their return what is still open comes back,
each move in the task's history; set on one's profile or by an admin, checked, and the account's own."""

import datetime as dt
from pathlib import Path

import pytest

from tests import events as ev
from tests.helpers import csrf_from, sign_in, sign_in_coordinator
from webapp import absences
from webapp.models import Absence, Event, Task, TaskHistory, User, utcnow
from webapp.pipeline import TaskStore, drain
from webapp.rulebook.explain import explain_row
from webapp.rules import load_rulebook_file
from webapp.rules.cover import Absences, Away
from webapp.rules.engine import evaluate, explain

RULEBOOK = load_rulebook_file(Path(__file__).parents[1] / "rules.yaml")
T0 = ev.BASE_TIME
PAT, JO = ev.PAT, ev.JO
SAM = {"email": "sam.rivera@acme.test", "name": "Sam Rivera"}
KIM = {"email": "kim.lee@acme.test", "name": "Kim Lee"}
HOUR = dt.timedelta(hours=1)


def away(person, backup=None, starts=T0 - HOUR, ends=T0 + HOUR):
    return Away(person["email"], starts, ends, backup)


def trigger_under(*absent):
    """The Ready to Schedule trigger of a candidate of Pat's (the job's coordinator is Jo) with these absences."""
    event = ev.stage_changed()
    event["data"]["account"] = {"name": "Acme", "creator": {"email": "founder@acme.test", "name": "Fran"}}
    [trigger] = [t for t in evaluate(RULEBOOK, event, Absences(absent)).triggers if t.rule.id == "ready_to_schedule"]
    return trigger


@pytest.mark.parametrize(
    "absent, assignee, covering",
    [
        ([], PAT, None),
        ([away(PAT, SAM)], SAM, PAT),
        ([away(PAT, SAM), away(SAM, KIM)], KIM, PAT),  # a backup away too passes on to their own
        ([away(PAT, SAM), away(SAM, PAT)], JO, PAT),  # a loop: the rule's next resolver
        ([away(PAT)], JO, PAT),  # no backup: the next resolver
        ([away(PAT, SAM, starts=T0 + HOUR, ends=T0 + 2 * HOUR)], PAT, None),  # not begun yet
        ([away(PAT, SAM, starts=T0 - 2 * HOUR, ends=T0)], PAT, None),  # over when the event happened
    ],
    ids=["at-work", "backup", "chain", "loop", "no-backup", "not-begun", "over"],
)
def test_the_resolvers_pick_whoever_covers_for_a_coordinator_away(absent, assignee, covering):
    trigger = trigger_under(*absent)
    assert trigger.assignee["email"] == assignee["email"]
    assert (trigger.covering_for or {}).get("email") == (covering or {}).get("email")
    assert trigger.assignee_note is None  # covering is not a problem of the rule's


def test_everyone_away_without_cover_leaves_the_task_waiting_for_the_first_and_explain_says_why():
    trigger = trigger_under(away(PAT), away(JO), away({"email": "founder@acme.test"}))
    assert trigger.assignee["email"] == PAT["email"] and trigger.covering_for is None
    event = dict(ev.stage_changed(), id="e")
    [why] = [e.reason for e in explain(RULEBOOK, event, Absences([away(PAT, SAM)])) if e.rule_id == "ready_to_schedule"]
    assert f"for {SAM['email']} ({PAT['email']} is away; {SAM['email']} covers)" in why


@pytest.fixture
def acme(make_account):
    """Acme with Pat (the candidates' coordinator), Sam and Kim, all of whom can sign in."""
    handle = make_account("Acme")
    for name, person in (("pat", PAT), ("sam", SAM), ("kim", KIM)):
        user = User.for_email(handle.account, person["email"], person["name"])
        user.set_password("correct horse battery")
        user.save()
        setattr(handle, name, user)
    return handle


def absence(user, backup, starts, ends, **fields):
    return Absence.create(account=user.account_id, user=user, backup=backup, starts_at=starts, ends_at=ends, **fields)


def test_a_task_opened_while_away_goes_down_the_chain_and_says_whom_it_covers(client, acme):
    absence(acme.pat, acme.sam, T0 - HOUR, T0 + HOUR)
    absence(acme.sam, acme.kim, T0 - HOUR, T0 + HOUR)
    acme.post_event(ev.stage_changed())
    acme.post_event(ev.stage_changed(application={"id": "app-2"}, minutes=120))  # Pat is back by then
    drain()
    covered, own = Task.select().order_by(Task.id)
    assert (covered.assignee_id, covered.covering_for_id) == (acme.kim.id, acme.pat.id)
    assert (own.assignee_id, own.covering_for_id) == (acme.pat.id, None)
    [opened] = [h.note for h in TaskHistory.history_of(covered)]
    assert opened.endswith("Kim Lee covering for Pat Coordinator")

    [explained], _ = explain_row(acme.account, Event.get(Event.id == covered.raised_by_event_id))
    [why] = [e.reason for e in explained.explanations if e.rule_id == "ready_to_schedule"]
    assert f"{PAT['email']} and {SAM['email']} are away; {KIM['email']} covers" in why  # the inbox's explanation

    sign_in(client, acme.kim.email)
    row = client.get("/tasks").get_data(as_text=True)
    assert "covering for Pat Coordinator" in row
    assert "covering for Pat Coordinator" in client.get(f"/tasks/{covered.id}").get_data(as_text=True)
    [listed] = acme.tasks(assignee=acme.kim.email)
    assert listed["covering_for"] == {"email": PAT["email"], "name": PAT["name"]}
    assert acme.get(f"/api/tasks/{own.id}").get_json()["covering_for"] is None


def test_the_start_hands_open_tasks_over_and_the_return_gives_back_only_the_open_ones(app, acme):
    acme.post_event(ev.stage_changed())
    acme.post_event(ev.stage_changed(application={"id": "app-2"}))
    drain()
    first, second = Task.select().order_by(Task.id)
    now = utcnow()
    planned = absence(acme.pat, acme.sam, now + HOUR, now + 3 * HOUR, hand_over=True)
    assert absences.sweep(now) == (0, 0)  # not begun
    assert absences.sweep(now + 2 * HOUR) == (2, 0)
    assert absences.sweep(now + 2 * HOUR) == (0, 0)  # once
    assert {t.assignee_id for t in Task.select()} == {acme.sam.id}
    second = Task.get_by_id(second.id)
    second.complete_by(acme.sam)

    assert absences.sweep(now + 4 * HOUR) == (0, 1)
    assert absences.sweep(now + 5 * HOUR) == (0, 0)  # exactly once
    first, second = Task.get_by_id(first.id), Task.get_by_id(second.id)
    assert (first.assignee_id, first.covering_for_id, first.status) == (acme.pat.id, None, "open")
    assert (second.assignee_id, second.status) == (acme.sam.id, "completed")  # completed meanwhile: stays so
    notes = [(h.kind, h.note) for h in TaskHistory.history_of(first)]
    assert notes[1:] == [
        ("reassigned", "Sam Rivera covering for Pat Coordinator, who is away"),
        ("reassigned", "back to Pat Coordinator, who has returned (covered by Sam Rivera)"),
    ]
    assert Absence.get_by_id(planned.id).returned_at is not None


def _profile_form(client, **values):
    token = csrf_from(client.get("/account/profile").get_data(as_text=True))
    return {"csrf_token": token, "starts_on": "", "ends_on": "", "backup": "", **values}


def test_a_coordinator_sets_their_absence_and_hands_their_tasks_over_in_one_step(client, acme):
    acme.post_event(ev.stage_changed())
    drain()
    sign_in(client, acme.pat.email)
    today = utcnow().date()
    form = _profile_form(
        client, starts_on=str(today - dt.timedelta(days=1)), ends_on=str(today + dt.timedelta(days=2)), hand_over="y"
    )
    form["backup"] = str(acme.sam.id)
    response = client.post("/account/absences", data=form, follow_redirects=True)
    assert "1 open task went to Sam Rivera" in response.get_data(as_text=True)
    [task] = Task.select()
    assert (task.assignee_id, task.covering_for_id) == (acme.sam.id, acme.pat.id)

    [saved] = Absence.select()
    assert client.post(f"/absences/{saved.id}/end", data={"csrf_token": form["csrf_token"]}).status_code == 303
    task = Task.get_by_id(task.id)
    assert (task.assignee_id, task.covering_for_id) == (acme.pat.id, None)  # ended early: back at once
    assert client.post(f"/absences/{saved.id}/delete", data={"csrf_token": form["csrf_token"]}).status_code == 303
    assert Absence.select().count() == 0


def test_the_form_says_what_is_wrong_and_saves_nothing(client, acme, make_account):
    outsider = make_account("Globex").user
    sign_in(client, acme.pat.email)
    today = utcnow().date()
    days = {"starts_on": str(today + dt.timedelta(days=3)), "ends_on": str(today + dt.timedelta(days=5))}
    absences.save(acme.pat, *_span(today, 10, 12), None, False, acme.pat)
    cases = [
        (dict(days, ends_on=str(today + dt.timedelta(days=2))), "The absence must end after it starts."),
        (dict(days, backup=str(acme.pat.id)), "Pat Coordinator cannot be their own backup"),
        (dict(days, backup=str(outsider.id)), "Choose a backup from your account&#39;s people."),
        (dict(starts_on=str(today + dt.timedelta(days=11)), ends_on=str(today + dt.timedelta(days=13))), "overlaps"),
        ({}, "Enter the first day away."),
    ]
    for values, message in cases:
        response = client.post("/account/absences", data=_profile_form(client, **values))
        assert response.status_code == 422 and message in response.get_data(as_text=True), message
    assert Absence.select().count() == 1
    assert client.post("/account/absences", data=dict(days, backup="")).status_code == 400  # no CSRF token
    assert Absence.select().count() == 1


def _span(today, first, last):
    start = dt.datetime.combine(today + dt.timedelta(days=first), dt.time(0), dt.UTC)
    return start, start + dt.timedelta(days=last - first + 1)


def test_absences_are_the_accounts_own_and_others_are_set_by_an_admin(client, acme, make_account):
    globex = make_account("Globex")
    theirs = absence(globex.user, None, utcnow() + HOUR, utcnow() + 2 * HOUR)
    sam_away = absence(acme.sam, None, utcnow() - HOUR, utcnow() + 2 * HOUR)
    sign_in_coordinator(client, acme.account, email=acme.pat.email, name="Pat Coordinator")
    token = csrf_from(client.get("/account/profile").get_data(as_text=True))
    assert client.get(f"/absences/{theirs.id}/edit").status_code == 404
    assert client.post(f"/absences/{theirs.id}/delete", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/absences/{sam_away.id}/delete", data={"csrf_token": token}).status_code == 403
    assert client.get(f"/admin/people/{acme.sam.id}/absences").status_code == 403
    client.post("/logout", data={"csrf_token": token})

    sign_in(client, acme.user.email)  # the admin
    assert client.get(f"/admin/people/{globex.user.id}/absences").status_code == 404
    acme.sam.time_zone = "America/New_York"  # days are the absent person's, in their zone
    acme.sam.save()
    page = client.get(f"/admin/people/{acme.sam.id}/absences").get_data(as_text=True)
    assert "Out of office: Sam Rivera" in page
    today = utcnow().date()
    form = {
        "csrf_token": csrf_from(page),
        "starts_on": str(today + dt.timedelta(days=3)),
        "ends_on": str(today + dt.timedelta(days=4)),
        "backup": str(acme.kim.id),
    }
    assert client.post(f"/admin/people/{acme.sam.id}/absences", data=form).status_code == 303
    saved = Absence.select().where(Absence.user == acme.sam, Absence.id != sam_away.id).get()
    assert (saved.backup_id, saved.set_by_id, saved.hand_over) == (acme.kim.id, acme.user.id, False)
    midnight_in_new_york = dt.datetime.combine(today + dt.timedelta(days=3), dt.time(5), dt.UTC)
    assert (saved.starts_at, saved.ends_at) == (midnight_in_new_york, midnight_in_new_york + dt.timedelta(days=2))
    assert "away until" in client.get("/admin/people").get_data(as_text=True)  # Sam, away now
    edit = client.get(f"/absences/{saved.id}/edit").get_data(as_text=True)
    assert f'value="{today + dt.timedelta(days=4)}"' in edit  # the last day, as it was entered
    assert Absence.get_by_id(theirs.id).ends_at == theirs.ends_at  # nothing of Globex's changed


def test_a_candidate_handed_to_a_coordinator_who_is_away_goes_to_their_backup(app, acme):
    acme.post_event(ev.stage_changed(candidate=dict(ev.CANDIDATE, coordinator=JO)))
    drain()
    absence(acme.pat, acme.sam, utcnow() - HOUR, utcnow() + HOUR)
    # The ATS names Pat the candidate's coordinator (a Greenhouse or Lever update): as the worker does it.
    row = Event.get()
    row.absences = absences.routing_for([acme.account.id])[acme.account.id]
    TaskStore(acme.account, row, RULEBOOK).hand_over("cand-1", acme.pat)
    [task] = Task.select()
    assert (task.assignee_id, task.covering_for_id) == (acme.sam.id, acme.pat.id)
    assert TaskHistory.history_of(task)[-1].note.endswith("Sam Rivera covering for Pat Coordinator")


def _assignees(acme):
    return [(t.assignee_id, t.covering_for_id) for t in Task.select().order_by(Task.id)]


def test_changing_deleting_or_outliving_an_absence_under_way_leaves_no_task_with_the_wrong_person(app, acme):
    acme.post_event(ev.stage_changed())
    drain()
    now = utcnow()
    pat, sam, kim = acme.pat, acme.sam, acme.kim
    # Under way, nobody to cover yet: the hand-over waits for a backup, it is not spent.
    away_now, _ = absences.save(pat, now - HOUR, now + 5 * HOUR, None, True, pat, now=now)
    assert _assignees(acme) == [(pat.id, None)]
    absences.save(pat, now - HOUR, now + 5 * HOUR, sam.id, True, pat, absence=away_now, now=now)
    assert _assignees(acme) == [(sam.id, pat.id)]
    # Another backup: what went to Sam goes to Kim.
    absences.save(pat, now - HOUR, now + 5 * HOUR, kim.id, True, pat, absence=Absence.get_by_id(away_now.id), now=now)
    assert _assignees(acme) == [(kim.id, pat.id)]
    # Deleted while under way: back to Pat, and nothing left to hand back later.
    absences.delete(Absence.get_by_id(away_now.id), now=now)
    assert _assignees(acme) == [(pat.id, None)]
    assert absences.sweep(now + HOUR) == (0, 0)

    # A task left covering for Pat though Pat is not away (a batch that read the absences just
    # before the return committed): the sweep gives it back.
    Task.update(assignee=sam, covering_for=pat).execute()
    assert absences.sweep(now + HOUR) == (0, 1)
    assert _assignees(acme) == [(pat.id, None)]


def test_a_failing_step_of_the_periodic_sweep_does_not_stop_the_others(app, acme, monkeypatch):
    from worker.jobs import sweep

    acme.post_event(ev.stage_changed())
    drain()
    Task.update(status=Task.SNOOZED, snoozed_until=utcnow() - HOUR).execute()

    def broken(now=None):
        raise RuntimeError("an absence the sweep cannot read")

    monkeypatch.setattr(absences, "sweep", broken)
    with pytest.raises(RuntimeError, match="cannot read"):
        sweep()  # said, for RQ to record the job failed
    assert Task.get().status == Task.OPEN  # the next step, waking snoozes, ran all the same
