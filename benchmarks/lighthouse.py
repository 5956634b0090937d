"""Lighthouse scores of the home page and of a commune page, mobile preset (Lighthouse's default).

Builds Valenciennes Métropole (from ../shared/data) unless --site names a built site, serves it
locally (trame's server) and runs Lighthouse from benchmarks/node_modules (installed by
`make bench-setup` from benchmarks/package-lock.json) with Debian's Chromium (headless, the flags
of ../shared/docs/field-notes.md), once per page by default. Prints the four category scores, the
metrics behind the performance score and the machine's load average for each run, then the
medians per page; keeps each JSON report with --keep DIR.

    .venv/bin/python benchmarks/lighthouse.py [--runs 3] [--theme dsfr|both] [--keep DIR]

--theme both builds the site in both themes and runs them back to back (default theme, then DSFR,
for each page and run), so that both see the same load: on a shared machine, compare their
ratios rather than the raw figures.

Budget: a median of 100 in performance, accessibility, best practices and SEO on both pages.
Exit status 1 when one is below. trame's server gzips text (pages, CSS, JavaScript, JSON, SVG)
as static hosts and the README's nginx snippet do; --no-gzip serves every file as it is, like a
host that does not compress.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from common import SHARED_DATA, served_site  # noqa: E402 - after the path setup, like the others

DATA = SHARED_DATA / "valenciennes-metropole"
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


def summary(result: dict) -> tuple[dict[str, int], dict[str, float], str]:
    scores = {c: round(result["categories"][c]["score"] * 100) for c in CATEGORIES}
    audits = result["audits"]
    values = {short: audits[key]["numericValue"] for key, short in METRICS.items()}
    metrics = "  ".join(f"{short} {audits[key]['displayValue']}" for key, short in METRICS.items())
    # Lighthouse's own measure of this machine's CPU: its simulated 4x slowdown multiplies this
    # machine's own task times, so a slower machine scores lower with the same pages.
    metrics += f"  benchmarkIndex {result['environment'].get('benchmarkIndex', 0):.0f}"
    failing = [
        f"{ref['id']} ({audits[ref['id']]['score']})"
        for category in CATEGORIES
        for ref in result["categories"][category]["auditRefs"]
        if ref["weight"] > 0 and (audits[ref["id"]]["score"] or 0) < 1
        and audits[ref["id"]]["scoreDisplayMode"] in ("binary", "numeric", "metricSavings")
    ]  # fmt: skip
    return scores, values, metrics + ("\n    below 1: " + ", ".join(failing) if failing else "")


def shown(value: float, short: str) -> str:
    if short == "CLS":
        return f"{value:.3f}"
    if short == "TBT":
        return f"{value:.0f} ms"
    return f"{value / 1000:.2f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="runs per page (medians count)")
    parser.add_argument("--site", type=Path, help="a built site (default: build Valenciennes)")
    parser.add_argument("--theme", choices=["default", "dsfr", "both"], help="build in this theme")
    parser.add_argument("--keep", type=Path, help="folder for the JSON reports")
    parser.add_argument("--no-gzip", action="store_true", help="serve text uncompressed")
    arguments = parser.parse_args()
    for needed in (LIGHTHOUSE, Path(CHROMIUM)):
        if not needed.exists():
            print(f"skipped: {needed} not found (make bench-setup; Debian's chromium)")
            return 0
    if arguments.theme == "both" and arguments.site:
        parser.error("--theme both builds both sites: no --site")
    themes = ["default", "dsfr"] if arguments.theme == "both" else [arguments.theme]
    with contextlib.ExitStack() as stack:
        temporary = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="trame-lh-")))
        bases = {}
        for theme in themes:
            folder = temporary / (theme or "site")
            folder.mkdir()
            base = stack.enter_context(
                served_site(arguments.site, CONFIG, DATA, folder, theme, not arguments.no_gzip)
            )
            if base is None:
                return 0
            bases[theme or "site"] = base
        reports = arguments.keep or temporary / "rapports"
        reports.mkdir(parents=True, exist_ok=True)
        results: dict[tuple[str, str], list[tuple[dict[str, int], dict[str, float], float]]] = {}
        for run in range(1, arguments.runs + 1):
            for name, path in PAGES.items():
                for theme, base in bases.items():
                    load = os.getloadavg()[0]
                    result = lighthouse(base + path, reports / f"{theme}-{name}-{run}.json")
                    scores, values, details = summary(result)
                    results.setdefault((theme, name), []).append((scores, values, load))
                    line = "  ".join(f"{c} {s}" for c, s in scores.items())
                    print(f"{theme} {name} (/{path}) run {run}, load {load:.1f}: {line}")
                    print(f"    {details}", flush=True)
    print(f"\nmedians of {arguments.runs} run(s):")
    worst = 100
    for (theme, name), runs in results.items():
        scores = {c: statistics.median(r[0][c] for r in runs) for c in CATEGORIES}
        values = {m: statistics.median(r[1][m] for r in runs) for m in METRICS.values()}
        loads = [r[2] for r in runs]
        worst = min(worst, *scores.values())
        print(
            f"  {theme:8} {name:8} "
            + "  ".join(f"{c} {s:g}" for c, s in scores.items())
            + "  "
            + "  ".join(f"{m} {shown(v, m)}" for m, v in values.items())
            + f"  load {min(loads):.1f}–{max(loads):.1f}"
        )
    if len(bases) == 2:
        print("ratios dsfr / default (medians):")
        for name in PAGES:
            ratios = []
            for metric in ("FCP", "LCP", "SI"):
                medians = [
                    statistics.median(r[1][metric] for r in results[(theme, name)])
                    for theme in bases
                ]
                ratios.append(f"{metric} {medians[1] / medians[0]:.2f}")
            print(f"  {name}: " + "  ".join(ratios))
    print("all four categories at 100 on both pages" if worst == 100 else f"lowest median: {worst}")
    return 0 if worst == 100 else 1


if __name__ == "__main__":
    sys.exit(main())
