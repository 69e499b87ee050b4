"""`flask rulebook export|import|history`: an account's rulebook from and to files, through the
same checks as the admin page's Save."""

from tests import events as ev
from tests.test_rulebook_versions import DEFAULT, broken, urgent_new_jobs, without_new_job
from webapp.models import RulebookVersion, Task
from webapp.pipeline import drain
from webapp.rulebook import rulebook_for


def test_export_prints_the_default_rulebook_until_the_account_saves_one(runner, make_account, tmp_path):
    acme = make_account("Acme")
    assert runner.invoke(args=["rulebook", "export", "--account", "Acme"]).output == DEFAULT
    draft = tmp_path / "rules.yaml"
    draft.write_text(urgent_new_jobs())

    imported = runner.invoke(
        args=["rulebook", "import", str(draft), "--account", "Acme", "-m", "urgent", "--author", acme.user.email]
    )

    assert imported.exit_code == 0, imported.output
    assert "saved as version 1" in imported.output
    assert rulebook_for(acme.account).rule("new_job").priority == "urgent"
    out = tmp_path / "out.yaml"
    assert runner.invoke(args=["rulebook", "export", "--account", "Acme", "-o", str(out)]).exit_code == 0
    assert out.read_text() == urgent_new_jobs()
    listed = runner.invoke(args=["rulebook", "history", "--account", "Acme"]).output
    assert listed.startswith("1\t") and acme.user.email in listed and "urgent" in listed


def test_import_refuses_a_rulebook_with_problems_naming_file_line_and_column(runner, make_account, tmp_path):
    make_account("Acme")
    draft = tmp_path / "mine.yaml"
    draft.write_text(broken())
    line = DEFAULT.splitlines().index("    event: job.created") + 1

    result = runner.invoke(args=["rulebook", "import", str(draft), "--account", "Acme", "-m", "oops"])

    assert result.exit_code == 1
    assert f"{draft}:{line}:12:" in result.output and "not imported" in result.output
    assert RulebookVersion.select().count() == 0


def test_import_asks_what_to_do_with_a_removed_rules_open_tasks(runner, make_account, tmp_path):
    acme = make_account("Acme")
    acme.post_event(ev.job_event("created"))
    drain()
    draft = tmp_path / "rules.yaml"
    draft.write_text(without_new_job())
    args = ["rulebook", "import", str(draft), "--account", "Acme", "-m", "no new jobs"]

    asked = runner.invoke(args=args)
    assert asked.exit_code == 1 and "--removed new_job=complete" in asked.output

    done = runner.invoke(args=args + ["--removed", "new_job=complete"])
    assert done.exit_code == 0, done.output
    assert Task.get().status == "completed"
    assert RulebookVersion.get().removed_rules == {"new_job": "complete"}
