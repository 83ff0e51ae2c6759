"""Fixtures for the helpdesk target's own tests (helpers in helpdesk_harness.py)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpdesk_harness import INSTANCES, Helpdesk, running_helpdesks


@pytest.fixture(scope="module")
def helpdesks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Helpdesk]]:
    with running_helpdesks(tmp_path_factory.mktemp("helpdesk"), INSTANCES) as started:
        yield started


@pytest.fixture(scope="module")
def helpdesk(helpdesks: dict[str, Helpdesk]) -> Helpdesk:
    return helpdesks["healthy"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    from postdeploy.browser import LAUNCH_ARGS, find_executable

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=find_executable(), headless=True, args=list(LAUNCH_ARGS))
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()
