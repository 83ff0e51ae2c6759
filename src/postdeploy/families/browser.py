"""@browser: a tag, not a family with steps of its own; it says a scenario needs Chromium (the browser
steps come with @smoke), so ``-m "not browser"`` runs without one."""

from ._family import Family

FAMILY = Family(name="browser", description="needs a real browser (Chromium via Playwright)")
