"""axe-core, from node_modules (pinned in package.json and package-lock.json; scripts/test
installs it), run on the page a browser test has open.

Injected with ``page.evaluate`` of the file rather than ``page.add_script_tag``: a script tag
with the file's text is an inline script, which the pages' Content-Security-Policy
(``default-src 'self'``) refuses, and bypassing that policy would have axe check a page that
differs from what people get (the inline styles the policy blocks would then apply). The app
itself loads nothing new: only the test puts axe into the page.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


@cache
def axe_source() -> str:
    if not AXE.exists():
        raise RuntimeError(
            f"{AXE} is missing: run `npm ci` (scripts/test does it when node_modules lacks it)"
        )
    return AXE.read_text()


def violations(page: Page, where: str = "") -> list[str]:
    """Each serious or critical violation on the page, as "rule on where: element — help"."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    results = page.evaluate(
        """async () => {
          const found = await axe.run(document, { resultTypes: ["violations"] });
          return found.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => n.target.join(" ")),
          }));
        }"""
    )
    where = where or page.url
    return [
        f"{v['id']} on {where}: {node} — {v['help']}"
        for v in results
        if v["impact"] in SERIOUS
        for node in v["nodes"]
    ]
