"""``trame serve --watch``: the site built again in the same process, with the same workers,
when an input changes; the bytes of a cold build, and a failed build keeps the site."""

from __future__ import annotations

import threading
from pathlib import Path

from test_incremental import move_one_point, read_tree

import trame.watch
from trame.build import build_site
from trame.errors import UserError
from trame.watch import snapshot, watch


def test_changes_are_built_again_in_the_same_process_with_a_cold_builds_bytes(
    territory, tmp_path, monkeypatch, capsys
):
    """A moved point is built again with the same pool of workers; a communes file caught
    half-saved fails with a message and leaves the site alone; once saved, the site is a
    cold build's, byte for byte."""
    site, tiles = tmp_path / "site", tmp_path / "tiles"
    communes = territory.parent / "demo" / "communes.geojson"
    saved = communes.read_bytes()
    stop, results, pools, failures = threading.Event(), [], [], []

    def built(result):
        results.append(result)
        if len(results) == 1:
            move_one_point(territory.parent / "demo" / "srce_fictif.gpkg", "obstacles_ponctuels", 150.0)  # fmt: skip
        elif len(results) == 2:
            communes.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
        else:
            stop.set()

    def recording_build(*args, **options):
        pools.append(options["pool"])  # the objects: an id() may be reused once freed
        try:
            return build_site(*args, **options)
        except UserError:
            failures.append(read_tree(site))
            communes.write_bytes(saved)  # saved at last
            raise

    monkeypatch.setattr(trame.watch, "build_site", recording_build)
    watcher = threading.Thread(target=watch, args=(territory, None, site), kwargs={
        "workers": 2, "every": 0.05, "stop": stop, "built": built, "quiet": True,
        "tiles_dir": tiles,
    })  # fmt: skip
    watcher.start()
    watcher.join(timeout=300)
    stop.set()
    assert not watcher.is_alive() and len(results) == 3 and len(failures) == 1
    assert "le site reste tel quel" in capsys.readouterr().err
    assert len(pools) == 4 and all(pool is pools[0] for pool in pools)  # one pool for all
    first, moved, _ = results
    assert first.rendered == first.communes == 13 and 0 < moved.rendered < 13 / 2
    build_site(territory, None, tmp_path / "cold", quiet=True, workers=1,
               tiles_dir=tmp_path / "cold-tiles", releases_dir=tmp_path / "cold-releases")  # fmt: skip
    assert read_tree(site) == read_tree(tmp_path / "cold") == failures[0]


def test_the_snapshot_sees_the_data_and_a_config_being_edited(territory):
    before = snapshot(territory, None)
    assert any(path.endswith("srce_fictif.gpkg") for path in before)
    assert any(path.endswith("demo.yml") for path in before)
    territory.write_text("name: [", encoding="utf-8")  # an unreadable config: watched alone
    assert list(snapshot(territory, None)) == [str(territory)]


def test_trame_serve_watch_builds_then_serves(territory, tmp_path):
    import signal
    import subprocess
    import sys
    import urllib.request

    site = tmp_path / "site"
    command = [str(Path(sys.executable).parent / "trame"), "serve", "--watch", "--config", str(territory),
               "--site", str(site), "--port", "0", "--workers", "1", "--quiet"]  # fmt: skip
    # Ctrl-C as a terminal sends it, whatever this process inherited: a shell that runs the
    # tests in the background (`… &`) ignores SIGINT, and the child would inherit that.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    try:
        line = process.stdout.readline()  # printed once the first build is served
        assert line.startswith("Site servi sur http://127.0.0.1:"), process.stderr.read()
        url = line.split()[3].rstrip(";")
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert answer.status == 200 and b"<h1" in answer.read()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError(f"no exit 30 s after Ctrl-C: {process.communicate()}") from None
        assert code == 0, process.stderr.read()
