"""How the dashboard's browser tests and the room load test start Chromium through Playwright.

Debian's Chromium is used (Playwright downloads no browser of its own); the arguments keep it
headless, let it run as root in a container, and stop it fetching or syncing anything in the
background, which would disturb timings.
"""

from __future__ import annotations

#: Debian's Chromium (`apt-get install chromium`)
CHROMIUM_PATH = "/usr/bin/chromium"

HEADLESS_CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
