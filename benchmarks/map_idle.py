"""Time from navigation to the interactive map's first `idle`, on a commune page.

Builds Valenciennes Métropole (real contours, fictitious layers, from ../shared/data) unless
--site names a built site, serves it locally (trame's server), and opens the page N times in
headless Chromium (Debian's, WebGL on SwiftShader), each time in a fresh browser context (empty
cache), at 1280 x 800 (on phones the interactive map starts on request). The page stamps
`window.trameIdleMs` (performance.now() at the first idle) and performance marks on the way:
module start, MapLibre imported, map created, map `load`, `idle`.

    .venv/bin/python benchmarks/map_idle.py [--runs 10] [--site DIR] [--page communes/...]

Budget: median <= 1000 ms. Exit status 1 when the budget is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from common import SHARED_DATA, served_site  # noqa: E402 - after the path setup, like the others

DATA = SHARED_DATA / "valenciennes-metropole"
CONFIG = PROJECT / "layers" / "valenciennes-metropole.yml"
PAGE = "communes/59606-valenciennes/"
CHROMIUM = "/usr/lib/chromium/chromium"
ARGS = [
    "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
BUDGET_MS = 1000
MARKS = ["trame:debut", "trame:maplibre", "trame:carte", "trame:load", "trame:idle"]


def measure(base: str, page_path: str, runs: int) -> list[dict[str, float]]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
            page = context.new_page()
            page.goto(base + page_path)
            page.wait_for_function("window.trameIdleMs !== undefined", timeout=30_000)
            results.append(
                page.evaluate(
                    """(names) => {
                        const r = {idle: window.trameIdleMs};
                        const fcp = performance.getEntriesByName('first-contentful-paint')[0];
                        r.fcp = fcp ? fcp.startTime : NaN;
                        for (const n of names) {
                            const m = performance.getEntriesByName(n)[0];
                            r[n.replace('trame:', '')] = m ? m.startTime : NaN;
                        }
                        r.erreurs = (window.trameErreurs || []).length;
                        return r;
                    }""",
                    MARKS,
                )
            )
            context.close()
        browser.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--site", type=Path, help="a built site (default: build Valenciennes)")
    parser.add_argument("--theme", choices=["default", "dsfr"], help="build in this theme")
    parser.add_argument("--page", default=PAGE)
    arguments = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"skipped: Chromium not found at {CHROMIUM}")
        return 0
    with (
        tempfile.TemporaryDirectory(prefix="trame-idle-") as temporary,
        served_site(arguments.site, CONFIG, DATA, Path(temporary), arguments.theme) as base,
    ):
        if base is None:
            return 0
        results = measure(base, arguments.page, arguments.runs)

    columns = ["fcp", "debut", "maplibre", "carte", "load", "idle"]
    load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"{arguments.page}, {arguments.runs} runs, ms since navigation start")
    print(f"(load average {load} on {os.cpu_count()} processors: other work slows every step)")
    print("  " + "".join(f"{c:>10}" for c in columns))
    for r in results:
        print("  " + "".join(f"{r[c]:10.0f}" for c in columns))
    medians = {c: statistics.median(r[c] for r in results) for c in columns}
    print("  " + "".join(f"{medians[c]:10.0f}" for c in columns) + "   (medians)")
    errors = sum(r["erreurs"] for r in results)
    median = medians["idle"]
    verdict = "within" if median <= BUDGET_MS else "OVER"
    print(f"median navigation -> idle: {median:.0f} ms ({verdict} the {BUDGET_MS} ms budget)")
    if errors:
        print(f"map errors: {errors}")
    return 0 if median <= BUDGET_MS and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
