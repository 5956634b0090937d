"""PDF map sheets, built with the site: ``atlas.pdf`` and ``communes/<insee>-<slug>/carte.pdf``.

Vector PDF (WeasyPrint: HTML/CSS and SVG; ``segno`` for the QR codes), tagged PDF/UA-1,
with the bundled font embedded; byte-identical across builds. Each sheet carries the cartouche
(words from :class:`SheetsConfig`), the site's legend symbols, a scale bar and the numeric
scale, a north arrow, Lambert-93 coordinate ticks, the commune names and, on fictitious data,
the "données fictives" notice.

Measured on the 2-core development machine, one process (``workers=1``), A3 landscape, the
machine loaded by other work (load average 10: wall times about 2.5 times the CPU times):

==============================  =============================  =============================
measure                         demo (13 communes)             Valenciennes M. (35 communes)
==============================  =============================  =============================
commune sheet (2 pages), CPU    0.21 s median (max 0.29 s)     0.29 s median (max 0.41 s)
commune sheet, size             30 kB (30 to 32 kB)            31 kB (29 to 36 kB)
atlas.pdf                       1 + 1 sheets, 3 pages, 48 kB   1 + 5 sheets, 7 pages, 94 kB
atlas.pdf, CPU with start-up    1.5 s                          2.3 s
all the PDFs, wall              13 s, 0.40 MB                  35 s, 1.08 MB
==============================  =============================  =============================

Start-up, once per process: about 1.5 s CPU (WeasyPrint, the font, the explanatory text's
page, laid out once and reused by every sheet). The map is an SVG image, not inline SVG: the
HTML parser is pure Python and made a sheet five times slower.
"""

from __future__ import annotations

import concurrent.futures as cf
import math
import os
from collections.abc import Sequence
from pathlib import Path

from ..config import Config
from ..staticmap import StaticMaps
from ..territory import Commune
from .atlas import write_atlas
from .common import SheetMaps, SheetRecord
from .commune import write_commune_sheet, write_commune_sheets
from .document import font_faces
from .settings import SheetsConfig, settings_for

__all__ = [
    "SheetMaps", "SheetRecord", "SheetsConfig", "write_atlas", "write_commune_sheet",
    "write_commune_sheets", "write_sheets", "settings_for", "summary",
]  # fmt: skip


def page_url(config: Config, path: str) -> str:
    """The page's public address when the config knows the site's URL, else its path."""
    return f"{config.site_url.rstrip('/')}/{path}" if config.site_url else path


def write_sheets(
    site_dir: Path, config: Config, settings: SheetsConfig, communes: Sequence[Commune],
    maps: StaticMaps, *, executor: cf.Executor | None = None, workers: int | None = None,
) -> list[SheetRecord]:  # fmt: skip
    """Every PDF of the site, on ``executor`` (or a process pool of ``workers``; ``workers=1``
    and no executor: in this process): the atlas as one task, the communes in chunks.
    Records come back in a fixed order (atlas, then communes by INSEE code)."""
    font_faces()  # the bundled font is there, or one clear error before any work starts
    sheet_maps = SheetMaps(maps, tuple(communes))
    jobs = [
        (c, site_dir / c.path / "carte.pdf", page_url(config, c.path))
        for c in sorted(communes, key=lambda c: c.insee)
    ]
    workers = workers or os.cpu_count() or 1
    size = max(1, math.ceil(len(jobs) / (2 * workers)))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    atlas_args = (config, settings, sheet_maps, site_dir / "atlas.pdf", page_url(config, ""))
    if executor is None and workers == 1:
        records = [write_atlas(*atlas_args)]
        for chunk in chunks:
            records += write_commune_sheets(config, settings, sheet_maps, chunk)
        return records
    own = executor is None
    pool = cf.ProcessPoolExecutor(max_workers=workers) if own else executor
    try:
        atlas = pool.submit(write_atlas, *atlas_args)
        futures = [
            pool.submit(write_commune_sheets, config, settings, sheet_maps, chunk)
            for chunk in chunks
        ]
        records = [atlas.result()]
        for future in futures:
            records += future.result()
        return records
    finally:
        if own:
            pool.shutdown(cancel_futures=True)


def summary(records: Sequence[SheetRecord]) -> str:
    """One line for the build log: files, sheets, seconds per sheet, sizes."""
    sheets = sum(r.sheets for r in records)
    seconds = sum(r.seconds for r in records)
    size = sum(r.size for r in records)
    atlas = next((r for r in records if r.path == "atlas.pdf"), None)
    atlas_words = f", atlas.pdf {atlas.sheets} planches {atlas.size / 1e6:.1f} Mo" if atlas else ""
    return (
        f"  PDF : {len(records)} fichiers, {sheets} planches, {seconds / max(sheets, 1):.2f} s "
        f"par planche (cumul des processus), {size / 1e6:.1f} Mo{atlas_words}"
    )
