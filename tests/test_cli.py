"""The trame command: Dask workers from the CLI, validate's report, error exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trame.cli import main

PROJECT = Path(__file__).resolve().parent.parent


def files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_tiles_on_a_dask_cluster_match_local_processes(tmp_path):
    distributed = pytest.importorskip("distributed")
    config = str(PROJECT / "layers" / "demo.yml")
    assert main(["tiles", "--config", config, "--output", str(tmp_path / "local"), "-q",
                 "--workers", "1"]) == 0  # fmt: skip
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")
        assert main(["tiles", "--config", config, "--output", str(tmp_path / "dask"), "-q",
                     "--workers", f"dask://{address}"]) == 0  # fmt: skip
    local, dask = files(tmp_path / "local"), files(tmp_path / "dask")
    assert len(local) > 10 and local == dask


def test_unreachable_dask_scheduler_is_a_user_error(tmp_path, capsys):
    pytest.importorskip("distributed")
    code = main(["tiles", "--config", str(PROJECT / "layers" / "demo.yml"), "-q",
                 "--output", str(tmp_path / "t"), "--workers", "dask://127.0.0.1:9"])  # fmt: skip
    assert code == 2
    assert "impossible de joindre l'ordonnanceur Dask" in capsys.readouterr().err
    assert not (tmp_path / "t").exists()


def test_bad_workers_value(capsys):
    assert main(["tiles", "--workers", "lots", "-q"]) == 2
    assert "donnez un nombre de processus ou dask://hôte:port" in capsys.readouterr().err


def test_validate_writes_the_report(tmp_path, capsys):
    report = tmp_path / "rapport.json"
    assert (
        main(
            ["validate", "--config", str(PROJECT / "layers" / "demo.yml"), "--report", str(report)]
        )
        == 0
    )
    layers = {layer["name"]: layer for layer in json.loads(report.read_text())["layers"]}
    assert layers["communes"]["read"] >= 10
    assert "reservoirs-a-preserver" in capsys.readouterr().out
