"""Page helpers for browser tests of Airflow 3.3's UI (simple auth manager), with Playwright's sync API
driving Debian's Chromium.

Server-agnostic: a base URL and a user's password are all a :class:`UiUser` needs. Selectors are
roles, labels and visible text. Every step can be saved as a screenshot,
``.local/artifacts/ui/<test name>/<NN-step>.png``.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote

from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from dev import PROJECT_DIR

CHROMIUM = "/usr/bin/chromium"  # Debian's package: `playwright install` cannot download browsers here
ARTIFACTS = PROJECT_DIR / ".local" / "artifacts" / "ui"
FAILED = ("Failed", "Upstream Failed")
UNSAFE = re.compile(r"[^\w.-]+")  # in file names
WAIT = 60_000  # ms for any one page or element: generous, the 2-core machine is often busy


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium, closed whatever happens."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield browser
        finally:
            browser.close()


class Screenshots:
    """Numbered full-page screenshots of one test, in ``.local/artifacts/ui/<test>/`` (emptied first)."""

    def __init__(self, test_name: str):
        self.folder = ARTIFACTS / UNSAFE.sub("_", test_name)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.count = 0

    def take(self, page: Page, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{UNSAFE.sub('-', step)}.png"
        page.screenshot(path=path, full_page=True)
        print(f"screenshot: {path}")
        return path


class UiUser:
    """One person using the Airflow UI at ``url`` in a browser context of their own.

    :param browser: from :func:`chromium`.
    :param url: the API server's base URL, e.g. ``http://localhost:8080``.
    :param shots: where each step's screenshot goes (named ``<user>-<step>``).
    """

    def __init__(self, browser: Browser, url: str, user: str, password: str, shots: Screenshots):
        self.user, self.password, self.shots = user, password, shots
        self.context = browser.new_context(base_url=url, viewport={"width": 1400, "height": 1000})
        self.context.set_default_timeout(WAIT)
        self.page = self.context.new_page()

    def close(self) -> None:
        self.context.close()

    def shot(self, step: str) -> Path:
        return self.shots.take(self.page, f"{self.user}-{step}")

    def log_in(self) -> None:
        """Sign in on the simple auth manager's login page."""
        page = self.page
        page.goto("/")
        page.get_by_label("Username").fill(self.user)
        page.get_by_label("Password").fill(self.password)
        self.shot("login")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/auth/login" not in url)
        expect(page.get_by_role("link", name="Dags", exact=True)).to_be_visible(timeout=WAIT)
        self.shot("logged-in")

    def trigger(self, dag_id: str, *, text: dict[str, str] | None = None, choose: dict[str, str] | None = None) -> str:
        """Trigger ``dag_id`` through its trigger form; other Params keep their defaults.

        :param text: text to type, by Param title (the label the form shows).
        :param choose: option to pick, by Param title (enum Params are drop-downs).
        :return: the new run's id.
        """
        page = self.page
        page.goto(f"/dags/{dag_id}")
        page.get_by_role("button", name="Trigger Dag").click()
        form = page.get_by_role("dialog")
        for title, option in (choose or {}).items():
            form.get_by_role("combobox", name=title).click()
            page.get_by_role("option", name=option, exact=True).click()
        for title, value in (text or {}).items():
            label = page.locator("label").filter(has_text=re.compile(rf"^{re.escape(title)}\b"))
            form.get_by_role("group").filter(has=label).get_by_role("textbox").fill(value)
        self.shot(f"trigger-{dag_id}")
        submit = form.get_by_role("button", name="Trigger", exact=True)
        refused = f"the trigger form of {dag_id} refuses its Params (see the screenshot)"
        expect(submit, refused).to_be_enabled(timeout=WAIT)
        submit.click()
        page.wait_for_url(re.compile(rf"/dags/{re.escape(dag_id)}/runs/[^/]+$"))
        run_id = unquote(page.url.rsplit("/runs/", 1)[1])
        expect(page.get_by_role("heading", name=run_id, exact=True)).to_be_visible(timeout=WAIT)
        self.shot(f"triggered-{dag_id}")
        return run_id

    def open_required_action(self, dag_id: str, run_id: str) -> str:
        """Find the run's request in *Browse → Required Actions* and open it; return its subject."""
        page = self.page
        page.goto("/required_actions")
        row = page.get_by_role("row").filter(has=page.get_by_role("link", name=run_id, exact=True))
        expect(row, f"{dag_id} {run_id} is not among {self.user}'s required actions").to_have_count(1, timeout=WAIT)
        self.shot("required-actions")
        headers = page.get_by_role("columnheader").all_inner_texts()
        column = next(i for i, header in enumerate(headers) if header.strip() == "Subject")
        link = row.get_by_role("cell").nth(column).get_by_role("link")
        subject = link.inner_text().strip()
        link.click()
        page.wait_for_url(re.compile(r"/tasks/[^/]+/required_actions$"))
        # The list stays on screen until the request's page has loaded: wait for its answer buttons.
        expect(self._answers().first).to_be_visible(timeout=WAIT)
        return subject

    def request_body(self, subject: str) -> str:
        """The open request's body as the page renders it (Markdown turned into text)."""
        shown = self.page.get_by_text(subject, exact=True)
        panel = self.page.locator("div").filter(has=shown).last  # the innermost block: subject, then body
        self.shot("request")
        return panel.inner_text().split(subject, 1)[1].strip()

    def answer(self, choice: str) -> str:
        """Click ``choice`` (Approve, Reject) on the open request; return the notification shown."""
        page = self.page
        page.get_by_role("button", name=choice, exact=True).click()
        notice = page.get_by_role("region", name=re.compile("^Notifications")).get_by_role("status").first
        text = notice.inner_text()
        self.shot(choice.lower())
        return " ".join(text.split())

    def choices(self) -> dict[str, bool]:
        """The open request's answer buttons: name -> enabled."""
        return {button.inner_text().strip(): button.is_enabled() for button in self._answers().all()}

    def _answers(self) -> Locator:
        return self.page.get_by_role("contentinfo").get_by_role("button")

    def run_state(self, dag_id: str, run_id: str, states: tuple[str, ...], timeout: float = 900) -> str:
        """Wait until the run's page shows one of ``states`` (e.g. ``Success``); return it."""
        return self._wait_for_state(f"/dags/{dag_id}/runs/{run_id}", run_id, states, timeout, dag_id)

    def task_state(self, dag_id: str, run_id: str, task_id: str, states: tuple[str, ...], timeout: float = 900) -> str:
        """Wait until the task instance's page shows one of ``states`` (e.g. ``Awaiting Input``); return it."""
        path = f"/dags/{dag_id}/runs/{run_id}/tasks/{task_id}"
        return self._wait_for_state(path, task_id, states, timeout, task_id)

    def _wait_for_state(self, path: str, heading: str, states: tuple[str, ...], timeout: float, step: str) -> str:
        """Watch the state badge beside ``heading`` on ``path`` until it shows one of ``states``; a
        failed state not asked for fails at once. Until the UI's translations load, the badge shows
        a key (``states.running``): give even a check of the current state some seconds. The page
        refreshes itself while the run is active; it is reloaded every minute all the same."""
        page = self.page
        badge = page.get_by_role("heading", name=heading, exact=True).locator("..").get_by_test_id("state-badge")
        reload = time.monotonic()
        deadline = reload + timeout
        while True:
            if time.monotonic() >= reload:
                page.goto(path)
                reload = time.monotonic() + 60
            state = badge.inner_text().strip()
            if state in states or state in FAILED or time.monotonic() > deadline:
                break
            page.wait_for_timeout(2_000)
        self.shot(f"{step}-{state or 'no-state'}")
        assert state in states, f"{path} shows {state!r}, expected one of {states}"
        return state
