"""Browser tests: the web app on a real HTTP server, driven by Playwright through Debian's Chromium.

One SQLite database (migrated, demo network seeded, procedure deployed) and one server for the session
(a module that changes what the others rely on, such as the calendar, overrides `live_server` with a
server of its own), with a FrozenClock so that due dates are the same on every run; one browser for the
session and a fresh context (cookies, storage) per test. Each step's screenshot goes to
artifacts/screenshots/<test>/.

Chromium comes from Debian (`apt-get install chromium fonts-noto-cjk`), never from Playwright's own
download; without it the tests fail with a message saying so.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from orchestration.engine.clock import FrozenClock
from orchestration.engine.runtime import Runtime
from orchestration.services import demo
from orchestration.settings import Settings
from orchestration.store import migrate
from orchestration.store.db import make_engine, make_session_factory
from tests.browser.ui import Shots, Ui
from tests.conftest import START
from webapp import create_app
from webapp.context import SERVICES_KEY

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
TIMEOUT_MS = 10_000


@dataclass
class LiveServer:
    """The app on http://127.0.0.1:<port>, its clock (shared with the server) and a runtime beside it."""

    url: str
    clock: FrozenClock
    runtime: Runtime
    app: Flask


@contextmanager
def serve(root: Path) -> Iterator[LiveServer]:
    """The app with a fresh database in `root` on a server of its own, until the block ends."""
    url = f"sqlite:///{root / 'browser.sqlite'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    clock = FrozenClock(START)
    runtime = Runtime(make_session_factory(engine), clock)
    with runtime.sessions() as session, session.begin():
        demo.seed(session)
    runtime.deploy()

    app = create_app(
        {
            "DATABASE_URL": url,
            "TESTING": True,
            "CLOCK": clock,
            "SECRET_KEY": "browser-test-secret-key",
            "INSTANCE_PATH": str(root / "instance"),
        },
        # the tests move the clock by days while signed in; sessions end after 8 hours by default
        Settings.from_env(session_hours=24 * 400),
    )
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="browser-test-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", clock, runtime, app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        app.extensions[SERVICES_KEY].close()
        engine.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The server the tests share (a module that changes what others rely on brings its own)."""
    with serve(tmp_path_factory.mktemp("browser")) as server:
        yield server


@pytest.fixture(autouse=True)
def _clock_at_start(live_server: LiveServer) -> None:
    """Every test starts at the same moment, whatever an earlier test did to the clock."""
    live_server.clock.set(START)


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"浏览器测试需要 Debian 的 Chromium（{CHROMIUM} 不存在）。"
            " Install it with: apt-get install -y chromium fonts-noto-cjk",
            pytrace=False,
        )
    browser = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def shots(request: pytest.FixtureRequest, context: BrowserContext) -> Iterator[Shots]:
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "-", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shots = Shots(folder)
    yield shots
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for number, open_page in enumerate(context.pages, start=1):
            if not open_page.is_closed():
                open_page.screenshot(path=str(folder / f"failure-{number}.png"), full_page=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[Any]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keeps each phase's report on the item, so that `shots` can photograph the page of a failed test."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def ui(page: Page, shots: Shots) -> Ui:
    return Ui(page, shots)
