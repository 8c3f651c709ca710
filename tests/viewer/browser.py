"""A real headless Chromium for the viewer's page tests (Selenium + the distribution's chromedriver).

Chromium comes from Debian's packages (``chromium``, ``chromium-driver``; ``.ci/run`` installs
them). Without them the browser tests are skipped on a developer's machine and FAIL under CI
(``CI=true``), so a CI that lost its browser cannot pass quietly. Screenshots go to the folder
named at the end of the test run (``AGA_SCREENSHOTS``, else ``<pytest tmp>/screenshots``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("AGA_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("AGA_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,900",
    "--force-device-scale-factor=1",
)
SHOTS: list[Path] = []


def missing() -> str | None:
    """Why no browser test can run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


def require_browser() -> None:
    """Skip (developer machine) or fail (CI=true) when the browser is missing."""
    why = missing()
    if why is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"browser tests cannot run under CI: {why}")
    pytest.skip(f"browser tests need Chromium: {why}")


class Browser:
    """One headless Chromium with a fresh profile; ``js`` runs script, ``shot`` saves a screenshot."""

    def __init__(self, shots: Path) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.mkdtemp(prefix="aga-chromium-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for flag in FLAGS:
            opts.add_argument(flag)
        opts.add_argument(f"--user-data-dir={self.profile}")
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
        self.driver.set_page_load_timeout(30)
        self.shots = shots

    def get(self, url: str) -> None:
        """Open ``url`` and drop the console messages of earlier pages."""
        self.console()
        self.driver.get(url)

    def js(self, script: str, *args: Any) -> Any:
        """``return``-style script result."""
        return self.driver.execute_script(script, *args)

    def wait(self, what: Callable[[], Any], timeout: float = 20.0, message: str = "") -> Any:
        """Poll ``what`` until it is truthy; fail naming ``message`` after ``timeout`` seconds."""
        end = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < end:
            try:
                last = what()
            except Exception as err:  # noqa: BLE001 - the page may be between states
                last = err
            else:
                if last:
                    return last
            time.sleep(0.1)
        errors = self.console()
        raise AssertionError(f"timed out waiting for {message or what}: last {last!r}; console: {errors}")

    def console(self) -> list[dict[str, Any]]:
        """Console entries since the last call."""
        return list(self.driver.get_log("browser"))

    def errors(self) -> list[str]:
        """Console errors (SEVERE) since the last call."""
        return [e["message"] for e in self.console() if e.get("level") == "SEVERE"]

    def shot(self, name: str) -> Path:
        """Save a PNG screenshot of the window as ``<shots>/<name>.png``."""
        self.shots.mkdir(parents=True, exist_ok=True)
        path = self.shots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        SHOTS.append(path)
        return path

    def click_at(self, x: float, y: float) -> None:
        """A real pointer click at page coordinates ``(x, y)``."""
        from selenium.webdriver.common.actions.action_builder import ActionBuilder

        actions = ActionBuilder(self.driver)
        actions.pointer_action.move_to_location(int(round(x)), int(round(y)))
        actions.pointer_action.click()
        actions.perform()

    def close(self) -> None:
        """Quit Chromium and remove its profile."""
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)
