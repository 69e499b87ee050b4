"""Browser fixtures: the app served by a real HTTP server in a thread, and Debian's Chromium driven
by Playwright, failing any test whose pages log a console error or violate the CSP."""

import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.helpers import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Reported on the page's console, so the console listener catches CSP violations too.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " blocked " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture(scope="session")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The app on a free local port, polling for updates every second; yields its base URL."""
    app.config["TASKS_POLL_SECONDS"] = 1
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


class PageProblems(list):
    """Console errors, CSP violations and uncaught exceptions seen on a page."""


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page on the live server; the test fails if the page reported any problem."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 860})
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems = PageProblems()
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.problems = problems
    yield page
    context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def screenshot(page):
    """screenshot(name): save the page under var/screenshots/ for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name, full_page=True):
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    return take


# Pages set up otherwise than `page`: without JavaScript, at a phone's width, or with the CSP bypassed
# so that a test can inject axe-core; each fails its test on the same problems as `page`.
PHONE = {"width": 375, "height": 740}


@pytest.fixture
def open_page(browser, live_server):
    """open_page(**context_options) -> a fresh page on the live server in a context of its own."""
    opened = []

    def open_(**options):
        options = {"viewport": {"width": 1280, "height": 860}, **options}
        context = browser.new_context(base_url=live_server, **options)
        if not options.get("bypass_csp"):
            context.add_init_script(REPORT_CSP_VIOLATIONS)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.problems = PageProblems()
        page.on(
            "console",
            lambda msg: page.problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None,
        )
        page.on("pageerror", lambda exc: page.problems.append(f"page error: {exc}"))
        opened.append((context, page))
        return page

    yield open_
    for context, _page in opened:
        context.close()
    problems = [problem for _, page in opened for problem in page.problems]
    assert not problems, "\n".join(problems)


def sign_in(page, email, password=PASSWORD):
    """Sign in with the form and wait for the task list, htmx bound to it."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My tasks")).to_be_visible()
    page.wait_for_load_state("load")
