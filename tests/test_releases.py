"""Releases: two editions of the demo territory, built one after the other into one site.

The second edition (made here in a temporary copy of layers/demo) removes one obstacle, adds one,
changes another's attributes, and merges commune 00005 into 00006. After it, the first release's
files are byte for byte what the first build published, the current addresses show the second,
and api/changes/ names exactly the three elements.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from pathlib import Path

import pyogrio
import pyogrio.raw
import pytest
from conftest import (
    ADDED,
    FIRST,
    MODIFIED,
    NEW,
    OLD,
    REMOVED,
    SECOND,
    build_release,
    copy_demo,
    second_edition,
)

from trame.build import build_site
from trame.errors import UserError
from trame.releases.history import History, history_lock
from trame.releases.site import current_page

ITEM = "obstacles-ponctuels"


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two releases, built once for the module into a folder the tests only read."""
    root = tmp_path_factory.mktemp("releases")
    config = copy_demo(root / "layers")
    build_release(config, root, FIRST)
    (root / "first.json").write_text(
        json.dumps({k: v.hex() for k, v in files(root / "site" / "versions" / FIRST).items()})
    )
    second_edition(config)
    build_release(config, root, SECOND)
    return root


@pytest.fixture
def two_releases(built: Path) -> tuple[Path, dict[str, bytes], Path]:
    """site, the first build's versions/<first>/ files, config (read only)."""
    first = {k: bytes.fromhex(v) for k, v in json.loads((built / "first.json").read_text()).items()}
    return built / "site", first, built / "layers" / "demo.yml"


@pytest.fixture
def own_releases(built: Path, tmp_path: Path) -> tuple[Path, dict[str, bytes], Path]:
    """A copy of the two releases (site, history, data) that a test may change."""
    for name in ("site", "releases", "layers", "tiles"):
        shutil.copytree(built / name, tmp_path / name)
    return tmp_path / "site", {}, tmp_path / "layers" / "demo.yml"


def test_the_first_release_is_frozen_and_the_current_addresses_show_the_second(two_releases):
    site, first, _ = two_releases
    assert files(site / "versions" / FIRST) == first
    versions = json.loads((site / "api" / "versions.json").read_text())
    assert versions["latest"] == SECOND
    assert [r["id"] for r in versions["releases"]] == [FIRST, SECOND]
    home = (site / "index.html").read_text(encoding="utf-8")
    assert f'name="trame-version" content="{SECOND}"' in home
    communes = {c["insee"] for c in json.loads((site / "api" / "communes.json").read_text())}
    assert OLD not in communes and NEW in communes
    # The current pages are the latest release's, but for their canonical link.
    latest = files(site / "versions" / SECOND)
    for name, data in latest.items():
        current = (site / name).read_bytes()
        if name.endswith(".html"):
            assert current == current_page(data.decode(), name, SECOND, None).encode(), name
        else:
            assert current == data, name
    page = site / "versions" / SECOND / "communes" / "00006-l-epinoy-sur-rhonelle" / "index.html"
    text = page.read_text(encoding="utf-8")
    assert re.search(r'<link rel="canonical" href="[^"]*versions/2017-01/communes/00006-', text)
    assert (
        'rel="canonical"'
        not in (site / "communes" / "00006-l-epinoy-sur-rhonelle" / "index.html").read_text()
    )
    assert f"Version du 15/01/2017 ({SECOND})" in text and 'id="citer"' in text
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', text)[1])
    assert (
        ld["version"] == SECOND
        and ld["dateModified"]
        and ld["url"].endswith("00006-l-epinoy-sur-rhonelle/")
    )
    # Its list of versions links both releases, and the pages of the commune it absorbed.
    links = re.findall(r'href="([^"]*versions/[^"]*)"', text)
    assert any(f"versions/{FIRST}/communes/00006-" in link for link in links)
    assert any(f"versions/{FIRST}/communes/{OLD}-" in link for link in links)
    for link in links:  # every link to a release resolves, from the versioned page
        if link.startswith(("http", "#")):
            continue
        target = (page.parent / link).resolve()
        assert (target / "index.html").is_file() or target.is_file(), link


def test_the_changes_name_exactly_the_three_elements(two_releases):
    site, _, _ = two_releases
    found = set()
    for path in (site / "api" / "changes").glob("*.json"):
        data = json.loads(path.read_text())
        assert data["release"] == SECOND and data["previous_release"] == FIRST
        for kind in ("added", "removed", "modified"):
            found |= {(kind, e["item"], e["id"]) for e in data[kind]}
    assert found == {
        ("added", ITEM, ADDED),
        ("removed", ITEM, REMOVED),
        ("modified", ITEM, MODIFIED),
    }
    summary = json.loads((site / "api" / "changes.json").read_text())["summary"]
    assert summary["added"] == summary["removed"] == summary["modified"] == 1
    modified = next(
        json.loads(p.read_text())
        for p in (site / "api" / "changes").glob("*.json")
        if json.loads(p.read_text())["modified"]
    )
    change = modified["modified"][0]
    assert change["fields"] == ["NATURE"] and change["after"]["NATURE"] == "Écluse"
    assert change["moved_m"] is None
    # The merged commune compares with both communes of the first release: unchanged elements
    # crossing their old border are not reported.
    merged = json.loads((site / "api" / "changes" / f"{NEW}.json").read_text())
    assert merged["merged_from"] == [OLD]
    # The page of a changed commune says what changed; the territory page lists it.
    insee = modified["insee"]
    page = (site / modified["url"] / "index.html").read_text(encoding="utf-8")
    section = page[page.index('id="changements"') :]
    assert MODIFIED in section and "Écluse" in section and "data-changements=" in page
    territory_page = (site / "changements" / "index.html").read_text(encoding="utf-8")
    assert f"({insee})" in territory_page
    geojson = json.loads((site / "api" / "changes" / f"{insee}.geojson").read_text())
    assert {f["properties"]["change"] for f in geojson["features"]} >= {"modified"}


def test_the_merged_communes_old_addresses_say_where_it_went(two_releases):
    site, _, _ = two_releases
    old_page = next((site / "versions" / FIRST / "communes").glob(f"{OLD}-*/index.html"))
    slug = old_page.parent.name
    for folder in (OLD, slug):
        html = (site / "communes" / folder / "index.html").read_text(encoding="utf-8")
        assert "a fusionné avec" in html and "Données fictives de démonstration" in html
        refresh = re.search(r'http-equiv="refresh" content="0; url=([^"]+)"', html)[1]
        assert refresh.startswith(f"../{NEW}-") and f"depuis={OLD}" in refresh
        for link in re.findall(r'href="([^"]+)"', html):
            target = (site / "communes" / folder / link.split("?")[0]).resolve()
            assert (
                (target / "index.html").is_file() or target.is_file() or link.startswith("data:")
            ), link
    merged = json.loads((site / "api" / "versions.json").read_text())["merged_communes"][OLD]
    assert merged["into"] == NEW and merged["pages"][0]["release"] == FIRST


def test_a_rebuild_with_nothing_changed_is_a_no_op(own_releases, tmp_path):
    site, _, config = own_releases
    before = files(site)
    history = files(tmp_path / "releases")
    again = build_release(config, tmp_path, SECOND)
    assert again.cached
    assert files(site) == before and files(tmp_path / "releases") == history
    # Losing the site loses nothing: it comes back from the history, byte for byte.
    shutil.rmtree(site)
    build_release(config, tmp_path, SECOND)
    assert files(site) == before


def test_a_failing_build_leaves_every_release_untouched(own_releases, tmp_path, monkeypatch):
    site, _, config = own_releases
    before, history = files(site), files(tmp_path / "releases")
    broken = config.read_text(encoding="utf-8").replace("insee_field: code", "insee_field: absent")
    config.write_text(broken, encoding="utf-8")
    with pytest.raises(UserError):
        build_release(config, tmp_path, "2017-02")
    config.write_text(broken.replace("insee_field: absent", "insee_field: code"), encoding="utf-8")

    from trame import memo

    def fail(*args, **kwargs):
        raise OSError("disque plein")

    # The manifest is written last, whether the site is assembled anew (step) or updated in
    # place (inplace: after the new release's folder and current addresses are put in place).
    write_json = memo.write_json

    def manifest_fails(name, path, data):
        return fail() if path.name == "manifest.json" else write_json(name, path, data)

    monkeypatch.setattr(memo, "write_json", manifest_fails)
    text = config.parent / "textes" / "srce-tvb-nord-pas-de-calais.md"
    text.write_text(text.read_text(encoding="utf-8") + "\nCorrection.\n", encoding="utf-8")
    with pytest.raises(OSError):
        build_release(config, tmp_path, "2017-02")
    after = files(tmp_path / "releases")
    assert {k: v for k, v in after.items() if not k.startswith("demo/objects/")} == {
        k: v for k, v in history.items() if not k.startswith("demo/objects/")
    }
    assert all(after[k] == v for k, v in history.items())  # objects are only ever added
    assert files(site) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_published_release_does_not_change_without_replace(own_releases, tmp_path):
    site, _, config = own_releases
    frozen = files(site / "versions" / FIRST)
    history = History.open(tmp_path / "releases" / "demo")
    assert history.mark_published([FIRST, SECOND], "test") == [FIRST, SECOND]
    text = config.parent / "textes" / "srce-tvb-nord-pas-de-calais.md"
    text.write_text(text.read_text(encoding="utf-8") + "\nUne correction.\n", encoding="utf-8")
    before = files(site)
    with pytest.raises(UserError, match="a été publiée.*nouvel identifiant.*REPLACE=1"):
        build_release(config, tmp_path, SECOND)
    assert files(site) == before
    with pytest.raises(UserError, match="n'est pas la dernière|a été publiée"):
        build_release(config, tmp_path, FIRST)
    build_release(config, tmp_path, SECOND, replace=True)
    assert "Une correction." in (site / "index.html").read_text(encoding="utf-8")
    log = History.open(tmp_path / "releases" / "demo").log
    assert log[-1]["event"] == "replace" and log[-1]["release"] == SECOND
    # A new id is always free: a third release.
    build_release(config, tmp_path, "2017-02")
    assert json.loads((site / "api" / "versions.json").read_text())["latest"] == "2017-02"
    assert files(site / "versions" / FIRST) == frozen


def test_identical_files_are_stored_once(two_releases, built):
    site, _, _ = two_releases
    history = History.open(built / "releases" / "demo")
    listed = [d for r in history.releases for d in history.listing(r.id).values()]
    objects = [p for p in (built / "releases" / "demo" / "objects").rglob("*") if p.is_file()]
    assert len(objects) == len(set(listed)) < len(listed)
    first, second = history.listing(FIRST), history.listing(SECOND)
    tile = next(n for n in first if n.endswith(".pbf") and first[n] == second.get(n))
    assert (site / "versions" / FIRST / tile).stat().st_ino == (
        site / "versions" / SECOND / tile
    ).stat().st_ino


def test_release_ids_are_checked(territory, tmp_path):
    with pytest.raises(UserError, match="identifiant de version"):
        build_release(territory, tmp_path, "../x")
    assert pyogrio  # the module is used by the fixtures above


def test_deploy_marks_the_releases_published(own_releases, tmp_path):
    from trame.cli import main

    site, _, config = own_releases
    shutil.rmtree(site)  # copytree broke the hard links: assemble it again from the history
    build_release(config, tmp_path, SECOND)
    www = tmp_path / "www"
    www.mkdir()
    assert main(["deploy", "--site", str(site), "--target", str(www), "--config", str(config)]) == 0
    history = History.open(tmp_path / "releases" / "demo")
    assert all(r.published for r in history.releases)
    assert history.log[-1]["event"] == "publish"
    live = www / "current"
    tile = next(p for p in (live / "tiles").rglob("*.pbf"))
    same = live / "versions" / SECOND / tile.relative_to(live)
    assert tile.stat().st_ino == same.stat().st_ino  # rsync kept the hard links
    text = config.parent / "textes" / "srce-tvb-nord-pas-de-calais.md"
    text.write_text(text.read_text(encoding="utf-8") + "\nEncore.\n", encoding="utf-8")
    with pytest.raises(UserError, match="a été publiée"):
        build_release(config, tmp_path, SECOND)


def test_renamed_communes_from_a_csv_file_and_from_the_official_list(territory):
    from trame.config import load_config
    from trame.releases.renamed import from_decoupage, load_mergers

    official = [
        {"code": "59006", "type": "commune-actuelle", "nom": "Bavay", "anciensCodes": ["59070"]},
        {"code": "59070", "type": "commune-deleguee", "nom": "Bermeries", "chefLieu": "59006"},
        {"code": "59183", "type": "commune-actuelle", "nom": "Dunkerque"},
        {"code": "59248", "type": "commune-associee", "nom": "Fort-Mardyck", "chefLieu": "59183"},
        {"code": "59183", "type": "commune-deleguee", "nom": "Dunkerque", "chefLieu": "59183"},
    ]
    found = {(m.old, m.new, m.name) for m in from_decoupage(official)}
    assert found == {("59070", "59006", "Bermeries"), ("59248", "59183", "Fort-Mardyck")}
    (territory.parent / "fusions.csv").write_text(
        "old_insee,new_insee,date,old_name\n00005,00006,2019-01-01,Ancienne\n", encoding="utf-8"
    )
    territory.write_text(
        territory.read_text(encoding="utf-8") + "\nrenamed_communes: fusions.csv\n",
        encoding="utf-8",
    )
    mergers = load_mergers(load_config(territory))
    assert mergers["00005"].new == "00006" and mergers["00005"].date == "2019-01-01"
    assert mergers["00005"].name == "Ancienne"
    (territory.parent / "fusions.csv").write_text(
        "old_insee,new_insee\n00005,5\n", encoding="utf-8"
    )
    with pytest.raises(UserError, match="fusions.csv.*codes INSEE"):
        load_mergers(load_config(territory))


def test_two_builds_never_write_one_history_at_once(territory, tmp_path):
    """A build finds the history held by another build (or a deploy) and stops, in French,
    without touching it; once released, the build goes on."""
    folder = tmp_path / "historique"
    with history_lock(folder):
        with pytest.raises(UserError, match="une autre construction ou une autre publication"):
            build_site(territory, None, tmp_path / "site", quiet=True, releases_dir=folder)
        assert not (folder / "history.json").exists() and not (tmp_path / "site").exists()
    assert build_site(territory, None, tmp_path / "site", quiet=True, releases_dir=folder).communes
    assert (folder / "history.json").is_file()


def test_current_addresses_made_during_the_build_are_the_ones_the_history_gives(built, tmp_path):
    """The build makes the latest release's current addresses chunk by chunk, as the workers
    render (releases.site.CurrentAddresses); assembled again from the history alone, the site
    is the same, byte for byte, and its files are the history's objects (hard links)."""
    from trame.config import load_config
    from trame.releases.step import plan_release, reassemble

    config = load_config(built / "layers" / "demo.yml")
    plan = plan_release(config, built / "site", None, built / "releases" / "demo", False)
    plan.id = SECOND
    reassemble(plan, tmp_path / "again", config)
    assert files(tmp_path / "again") == files(built / "site")
    history = History.open(built / "releases" / "demo")
    listing = history.listing(SECOND)
    current = built / "site"
    for name, digest in listing.items():
        page = (current / name).read_bytes()
        if name.endswith(".html") and page != history.object_path(digest).read_bytes():
            continue  # a page rewritten for the current addresses (its canonical link)
        assert (current / name).stat().st_ino == history.object_path(digest).stat().st_ino, name


@pytest.mark.parametrize("warm", [False, True])
def test_a_release_is_whole_only_while_every_object_it_names_is_there(tmp_path, monkeypatch, warm):
    """An incremental build links its unchanged files from the history: a release missing an
    object (a file deleted by hand, a folder of objects lost) is not whole, and the build then
    makes everything again. ``warm``: a process that keeps its objects folders' listings while
    their modification times stay (a removal changes it)."""
    from trame import memo
    from trame.files import file_digest
    from trame.releases import history as history_module
    from trame.releases.history import Release

    listed: list[str] = []
    listdir = os.listdir
    monkeypatch.setattr(history_module.os, "listdir", lambda p: listed.append(p) or listdir(p))
    with memo.kept() if warm else contextlib.nullcontext():
        tree = tmp_path / "tree"
        (tree / "a").mkdir(parents=True)
        files = {"index.html": b"<p>accueil</p>", "a/b.json": b"{}", "c.txt": b"c"}
        for name, data in files.items():
            (tree / name).write_bytes(data)
        listing = {name: file_digest(tree / name) for name in files}
        history = History(tmp_path / "history")
        history.store(tree, listing)
        release = history.add(Release("2016-09-30", "2016-09-30", "2016-09-30", "", "k"), listing)
        history.save(release.id)

        def whole() -> bool:  # (a history opened anew: no check remembered)
            reopened = History.open(history.folder)
            return reopened.is_complete(reopened.get(release.id))

        past = time.time() - 10  # (folders last changed long ago: their listings are kept)
        for folder in (history.folder / history_module.OBJECTS).iterdir():
            os.utime(folder, (past, past))
        assert whole()
        listed.clear()
        assert whole()
        assert len(listed) == (0 if warm else 3)
        lost = Path(history.object_file(listing["a/b.json"]))
        lost.unlink()
        assert not whole()
        shutil.rmtree(lost.parent)
        assert not whole()
        history.store(tree, listing)
        listed.clear()
        assert whole()
        # (warm: the folders the store has just written to are not listed again, though they
        # changed within the second; the others' listings were kept)
        assert len(listed) == (0 if warm else 3)


def test_a_listing_this_process_wrote_is_found_again_not_parsed(
    own_releases, tmp_path, monkeypatch
):
    """(a process that builds again and again reads back the listing it wrote last)"""
    _, _, config = own_releases
    text = config.parent / "textes" / "srce-tvb-nord-pas-de-calais.md"
    text.write_text(text.read_text(encoding="utf-8") + "\nUne phrase.\n", encoding="utf-8")
    build_release(config, tmp_path, "2017-02")
    reopened = History.open(tmp_path / "releases" / "demo")

    def fail(*args, **kwargs):
        raise AssertionError("parsed")

    monkeypatch.setattr(json, "loads", fail)
    listing = reopened.listing("2017-02")
    assert any(name.startswith("communes/") for name in listing)
