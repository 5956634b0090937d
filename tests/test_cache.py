"""Rebuilding: nothing is redone when nothing changed; tiles are kept when only texts change."""

import json

from trame.build import build_site


def test_unchanged_inputs_skip_the_build_and_changes_are_seen(territory, tmp_path):
    site, tiles = tmp_path / "site", tmp_path / "tiles"
    first = build_site(territory, None, site, quiet=True, workers=1, tiles_dir=tiles)
    assert not first.cached and first.tiles is not None
    manifest_before = (site / "manifest.json").read_bytes()

    again = build_site(territory, None, site, quiet=True, workers=1, tiles_dir=tiles)
    assert again.cached and again.communes == first.communes
    assert (site / "manifest.json").read_bytes() == manifest_before

    text = territory.parent / "textes" / "srce-tvb-nord-pas-de-calais.md"
    text.write_text(text.read_text(encoding="utf-8") + "\nUne phrase ajoutée.\n", encoding="utf-8")
    text_changed = build_site(territory, None, site, quiet=True, workers=1, tiles_dir=tiles)
    assert not text_changed.cached and text_changed.tiles is None  # tiles reused
    assert "Une phrase ajoutée." in (site / "index.html").read_text(encoding="utf-8")

    config = territory.read_text(encoding="utf-8").replace("maxzoom: 14", "maxzoom: 12")
    territory.write_text(config, encoding="utf-8")
    zoom_changed = build_site(territory, None, site, quiet=True, workers=1, tiles_dir=tiles)
    assert zoom_changed.tiles is not None and max(z.zoom for z in zoom_changed.tiles.zooms) == 12
    assert not (site / "tiles" / "13").exists()


def test_a_deleted_output_file_forces_a_rebuild(territory, tmp_path):
    site, tiles = tmp_path / "site", tmp_path / "tiles"
    build_site(territory, None, site, quiet=True, workers=1, tiles_dir=tiles)
    communes = json.loads((site / "api" / "communes.json").read_text())
    (site / communes[0]["url"] / "index.html").unlink()
    rebuilt = build_site(territory, None, site, quiet=True, workers=1, tiles_dir=tiles)
    assert not rebuilt.cached
    assert (site / communes[0]["url"] / "index.html").is_file()


def test_a_build_hashes_each_input_file_once(territory, tmp_path, monkeypatch):
    """Its data are keyed when read, in the tiles' key, the site's key and the manifest: one
    digest each, not four."""
    from collections import Counter

    from trame import cache, memo

    hashed: Counter[str] = Counter()
    file_digest = cache.file_digest

    def counted(path, *args):
        hashed[path.name] += 1
        return file_digest(path, *args)

    monkeypatch.setattr(cache, "file_digest", counted)
    with memo.kept():  # (a warm process keys what it reads by the files' digests too)
        build_site(territory, None, tmp_path / "site", quiet=True, workers=1,
                   tiles_dir=tmp_path / "t")  # fmt: skip
    data = {name: n for name, n in hashed.items() if name.endswith((".gpkg", ".geojson", ".md"))}
    assert data and set(data.values()) == {1}, hashed
    assert "srce_fictif.gpkg" in data


def test_reading_a_territory_alone_hashes_each_file_once(territory, monkeypatch):
    """(a warm process keys what it reads by the files' digests; several legend items read
    the same GeoPackage)"""
    from collections import Counter

    from trame import cache, memo
    from trame.config import load_config
    from trame.territory import load_territory

    hashed: Counter[str] = Counter()
    file_digest = cache.file_digest
    monkeypatch.setattr(
        cache, "file_digest", lambda p, *a: hashed.update([p.name]) or file_digest(p, *a)
    )
    with memo.kept(), memo.one_build():
        load_territory(load_config(territory))
    assert hashed["srce_fictif.gpkg"] == 1 and set(hashed.values()) == {1}, hashed


def test_the_code_key_changes_with_a_library_version(monkeypatch):
    """A library upgraded through the lock (libdeflate's gzip output, GEOS's repairs…) changes
    the code's key, so tiles and pages kept by the older version are made again."""
    import importlib.metadata

    import trame.cache as cache

    version = importlib.metadata.version
    before = cache.code_fingerprint.__wrapped__("generator")
    assert "deflate=" in cache.library_versions() and "GEOS=" in cache.library_versions()
    monkeypatch.setattr(
        importlib.metadata, "version", lambda name: "99.0" if name == "deflate" else version(name)
    )
    cache.library_versions.cache_clear()
    try:
        assert cache.code_fingerprint.__wrapped__("generator") != before
    finally:
        cache.library_versions.cache_clear()
