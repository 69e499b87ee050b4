"""The admin page for the account's rulebook: edit with line numbers, check, preview against recent
events, save as a new version, see the history with diffs, restore an old version."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import rulebook
from ..htmx import is_fragment_request, page_or_fragment
from ..models import Event, RulebookVersion

bp = Blueprint("admin_rules", __name__, url_prefix="/admin/rules")

MAX_REPLAY_EVENTS = 5000


@bp.before_request
@login_required
def _admins_only():
    if not current_user.is_admin:
        abort(403)


def _draft():
    """The draft as the form sent it: rulebook text, the account's rule tests, the save message."""
    form = request.form
    # Browsers send textarea lines with CRLF; the rulebook's line numbers are the same either way.
    return {
        "text": form.get("text", "").replace("\r\n", "\n"),
        "tests": form.get("tests", "").replace("\r\n", "\n"),
        "message": form.get("message", "").strip(),
    }


def _choices():
    """What to do with the open tasks of each removed rule: {rule_id: complete | keep}."""
    prefix = "removed-"
    return {key[len(prefix) :]: value for key, value in request.form.items() if key.startswith(prefix)}


def _replay_limit():
    try:
        return max(1, min(int(request.form.get("events") or rulebook.DEFAULT_REPLAY_EVENTS), MAX_REPLAY_EVENTS))
    except ValueError:
        return rulebook.DEFAULT_REPLAY_EVENTS


def _editor(draft=None, assessment=None, replay=None, status=200, refused=None, choices=None):
    """The editor page (or, for htmx, its report block) for a draft and what was found about it."""
    force = rulebook.in_force(current_user.account_id)
    draft = draft or {"text": force.text, "tests": force.tests, "message": ""}
    return page_or_fragment(
        "admin/rules.html",
        "report",
        status=status,
        force=force,
        draft=draft,
        assessment=assessment,
        replay=replay,
        refused=refused,
        choices=choices or {},
        events=_replay_limit() if request.method == "POST" else rulebook.DEFAULT_REPLAY_EVENTS,
        fragment=is_fragment_request(),
        versions=RulebookVersion.history(current_user.account_id)[:5],
        rule_problems=Event.rule_problems(current_user.account_id),
    )


@bp.get("")
def index():
    """The rulebook in force, in the editor."""
    return _editor()


@bp.post("/check")
def check():
    """Validate the draft and run its rule tests; each problem is shown beside its line."""
    draft = _draft()
    assessment = rulebook.assess(current_user.account_id, draft["text"], draft["tests"])
    # The problems are the answer, shown as the page's report (htmx swaps a 422 too).
    return _editor(draft, assessment, status=200 if assessment.valid else 422)


@bp.post("/preview")
def preview():
    """Replay the account's recent events through the draft and the rulebook in force; show what differs."""
    draft = _draft()
    assessment = rulebook.assess(current_user.account_id, draft["text"], draft["tests"])
    replay = (
        rulebook.replay(current_user.account_id, assessment.rulebook, _replay_limit()) if assessment.valid else None
    )
    return _editor(draft, assessment, replay, status=200 if assessment.valid else 422)


@bp.post("/save")
def save():
    """Store the draft as a new version if it validates and its rule tests pass."""
    draft = _draft()
    try:
        version = rulebook.save_version(
            current_user.account,
            draft["text"],
            draft["tests"],
            author=current_user.id,
            message=draft["message"],
            choices=_choices(),
        )
    except rulebook.SaveRefused as refused:
        return _editor(draft, refused.assessment, status=422, refused=refused.reason, choices=_choices())
    flash(f"Saved version {version.number}. Workers use it from the next event on.", "success")
    return redirect(url_for(".index"), 303)


@bp.get("/history")
def history():
    """Every saved version, newest first, with its diff against the one before."""
    return render_template("admin/rules_history.html", entries=rulebook.history(current_user.account_id))


@bp.get("/versions/<int:number>")
def version(number):
    """One saved version's text and tests, side by side with another version (`against`: a version
    number, 0 for the default rulebook; by default the version before it)."""
    versions = RulebookVersion.history(current_user.account_id)
    found = next((v for v in versions if v.number == number), None)
    if found is None:
        abort(404)
    against = request.args.get("against", type=int)
    if against is None:
        before = next((v for v in versions if v.number < number), None)
    elif against == 0:
        before = None
    else:
        before = next((v for v in versions if v.number == against), None)
        if before is None:
            abort(404)
    return render_template(
        "admin/rules_version.html",
        version=found,
        others=[v for v in versions if v.number != number],
        against=before.number if before else 0,
        compared=rulebook.compared(found, before),
    )


@bp.post("/versions/<int:number>/restore")
def restore(number):
    """Make an old version the one in force again (saved as a new version, through the same checks)."""
    if RulebookVersion.of_account(current_user.account_id, number) is None:
        abort(404)
    try:
        restored = rulebook.restore_version(current_user.account, number, author=current_user.id, choices=_choices())
    except rulebook.SaveRefused as refused:
        if refused.assessment.tests_pass and refused.assessment.removed:
            return render_template(
                "admin/rules_restore.html", number=number, assessment=refused.assessment, choices=_choices()
            ), 409
        flash(f"Version {number} cannot be restored: {refused.reason}. Open it in the editor to fix it.", "error")
        return redirect(url_for(".history"), 303)
    flash(f"Version {number} restored as version {restored.number}.", "success")
    return redirect(url_for(".index"), 303)
