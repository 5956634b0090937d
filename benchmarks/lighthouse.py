"""Lighthouse scores of the home page and of a commune page, mobile preset (Lighthouse's default).

Builds Valenciennes Métropole (from ../shared/data) unless --site names a built site, serves it
locally (trame's server) and runs Lighthouse from benchmarks/node_modules (installed by
`make bench-setup` from benchmarks/package-lock.json) with Debian's Chromium (headless, the flags
of ../shared/docs/field-notes.md), once per page by default. Prints the four category scores and
the metrics behind the performance score; keeps each JSON report with --keep DIR.

    .venv/bin/python benchmarks/lighthouse.py [--runs 1] [--site DIR] [--keep DIR]

Budget: 100 in performance, accessibility, best practices and SEO on both pages. Exit status 1
when a score is below. Note: trame's server does not compress; Lighthouse's "text compression"
advice concerns the host (nginx, a CDN…), not the pages.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from common import served_site  # noqa: E402 - after the path setup, like the others

DATA = PROJECT.parent / "shared" / "data" / "valenciennes-metropole"
CONFIG = PROJECT / "layers" / "valenciennes-metropole.yml"
PAGES = {"accueil": "", "commune": "communes/59606-valenciennes/"}
LIGHTHOUSE = PROJECT / "benchmarks" / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/lib/chromium/chromium"
CHROME_FLAGS = [
    "--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
METRICS = {
    "first-contentful-paint": "FCP",
    "largest-contentful-paint": "LCP",
    "total-blocking-time": "TBT",
    "cumulative-layout-shift": "CLS",
    "speed-index": "SI",
}


def lighthouse(url: str, report: Path) -> dict:
    command = [
        str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}",
        f"--chrome-flags={' '.join(CHROME_FLAGS)}",
    ]  # fmt: skip
    environment = {**os.environ, "CHROME_PATH": CHROMIUM}
    subprocess.run(command, check=True, env=environment, timeout=300)
    return json.loads(report.read_text(encoding="utf-8"))


def summary(result: dict) -> tuple[dict[str, int], str]:
    scores = {c: round(result["categories"][c]["score"] * 100) for c in CATEGORIES}
    audits = result["audits"]
    metrics = "  ".join(f"{short} {audits[key]['displayValue']}" for key, short in METRICS.items())
    failing = [
        f"{ref['id']} ({audits[ref['id']]['score']})"
        for category in CATEGORIES
        for ref in result["categories"][category]["auditRefs"]
        if ref["weight"] > 0 and (audits[ref["id"]]["score"] or 0) < 1
        and audits[ref["id"]]["scoreDisplayMode"] in ("binary", "numeric", "metricSavings")
    ]  # fmt: skip
    return scores, metrics + ("\n    below 1: " + ", ".join(failing) if failing else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="runs per page (the worst counts)")
    parser.add_argument("--site", type=Path, help="a built site (default: build Valenciennes)")
    parser.add_argument("--keep", type=Path, help="folder for the JSON reports")
    arguments = parser.parse_args()
    for needed in (LIGHTHOUSE, Path(CHROMIUM)):
        if not needed.exists():
            print(f"skipped: {needed} not found (make bench-setup; Debian's chromium)")
            return 0
    with (
        tempfile.TemporaryDirectory(prefix="trame-lighthouse-") as temporary,
        served_site(arguments.site, CONFIG, DATA, Path(temporary)) as base,
    ):
        if base is None:
            return 0
        reports = arguments.keep or Path(temporary) / "rapports"
        reports.mkdir(parents=True, exist_ok=True)
        worst = 100
        for name, path in PAGES.items():
            for run in range(1, arguments.runs + 1):
                result = lighthouse(base + path, reports / f"{name}-{run}.json")
                scores, details = summary(result)
                shown = "  ".join(f"{c} {s}" for c, s in scores.items())
                print(f"{name} (/{path}) run {run}: {shown}\n    {details}")
                worst = min(worst, *scores.values())
    print("all four categories at 100 on both pages" if worst == 100 else f"lowest score: {worst}")
    return 0 if worst == 100 else 1


if __name__ == "__main__":
    sys.exit(main())
