"""What a page did that a user would notice (postdeploy.browser.PageWatch), over fake Playwright objects: a request
the browser aborted because the page navigated away is not a failed request; every other failure is."""

from __future__ import annotations

from postdeploy.browser import PageWatch


class FakeRequest:
    def __init__(self, url: str, failure: str, method: str = "GET"):
        self.url, self.failure, self.method = url, failure, method


class FakePage:
    def __init__(self) -> None:
        self.handlers: dict[str, list] = {}
        self.main_frame = object()

    def on(self, event: str, handler) -> None:
        self.handlers.setdefault(event, []).append(handler)

    def emit(self, event: str, value) -> None:
        for handler in self.handlers.get(event, []):
            handler(value)


def test_requests_aborted_by_a_navigation_are_not_failures_but_others_are():
    page, watch = FakePage(), PageWatch()
    watch.attach_to(page)
    superseded = FakeRequest("http://app.test/api/items", "net::ERR_ABORTED")
    aborted_in_place = FakeRequest("http://app.test/api/slow", "net::ERR_ABORTED")
    refused = FakeRequest("http://app.test/assets/app.js", "net::ERR_CONNECTION_REFUSED")
    page.emit("request", superseded)
    page.emit("framenavigated", object())  # a child frame navigating does not count
    page.emit("framenavigated", page.main_frame)  # the step's own navigation to the next page
    page.emit("requestfailed", superseded)
    page.emit("request", aborted_in_place)
    page.emit("request", refused)
    page.emit("requestfailed", aborted_in_place)  # no navigation since it started: the page lost it
    page.emit("requestfailed", refused)
    assert watch.failed_requests == ["GET http://app.test/api/slow: net::ERR_ABORTED",
                                     "GET http://app.test/assets/app.js: net::ERR_CONNECTION_REFUSED"]
