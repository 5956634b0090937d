"""Golden files: what the site publishes for the demo territory, byte for byte.

A change to these files must be deliberate. To refresh them after an intended change, run
``.venv/bin/python -m pytest tests/test_golden.py --update-golden`` and review the diff in
``tests/expected/`` before committing it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

EXPECTED = Path(__file__).parent / "expected"
GOLDEN = {
    "style.json": "api/style.json",
    "commune-00002.json": "api/communes/00002.json",
    "commune-00002.svg": "communes/00002-{slug}/carte.svg",
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_published_file_matches_its_golden_copy(demo_site, name, request):
    pattern = GOLDEN[name]
    matches = sorted(demo_site.glob(pattern.replace("{slug}", "*")))
    assert len(matches) == 1, f"{pattern}: {len(matches)} files"
    published = matches[0].read_bytes()
    golden = EXPECTED / name
    if request.config.getoption("--update-golden"):
        EXPECTED.mkdir(exist_ok=True)
        golden.write_bytes(published)
    assert golden.is_file(), f"{golden} missing: run pytest with --update-golden once"
    assert published == golden.read_bytes(), (
        f"{pattern} differs from {golden}; if the change is intended, refresh with "
        "--update-golden and review the diff"
    )
