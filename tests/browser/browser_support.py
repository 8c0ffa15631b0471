"""Types shared by the browser tests (importable as ``browser_support``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Page, Request, Response


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    operator_token: str
    uscc: str  # an entity with public records
    name: str  # its name


@dataclass
class Problems:
    """What went wrong in the browser while a test ran: console errors, failed requests."""

    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def on_console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.console.append(f"{msg.text} @ {msg.location.get('url', '')}")

    def on_page_error(self, error: Exception) -> None:
        self.console.append(f"uncaught: {error}")

    def on_request_failed(self, request: Request) -> None:
        # a request the browser itself abandoned (the page navigated on, or closed, before
        # e.g. the favicon arrived) is not a failure of the server: seen as a rare flake
        if request.failure == "net::ERR_ABORTED" and request.resource_type != "document":
            return
        self.requests.append(f"{request.method} {request.url}: {request.failure}")

    def on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.requests.append(f"{response.request.method} {response.url}: {response.status}")

    def forgive(self, fragment: str) -> None:
        """Drop the entries about an expected error answer (e.g. ``"400 (Bad Request)"``)."""
        self.console[:] = [c for c in self.console if fragment not in c]
        self.requests[:] = [r for r in self.requests if fragment not in r]

    def assert_clean(self) -> None:
        assert not self.console, f"console errors: {self.console}"
        assert not self.requests, f"failed requests: {self.requests}"
        self.console.clear()
        self.requests.clear()


@dataclass
class Tab:
    page: Page
    problems: Problems
    base_url: str
    shots: Path

    def open(self, path: str) -> Response:
        response = self.page.goto(self.base_url + path, wait_until="load")
        assert response is not None
        return response

    def screenshot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def no_horizontal_scroll(page: Page) -> None:
    """The page is no wider than the viewport (nothing to scroll sideways)."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    scroll, client = widths
    assert scroll <= client, f"{page.url}: {scroll}px of content in a {client}px viewport"
