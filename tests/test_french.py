"""Every word the `trame` command says is French: argparse's own words, every --help, and the user
errors (one line naming the file, the layer, the feature and what to do; exit code 2, no
traceback)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from trame.cli import main, parser

COMMANDS = ["new", "build", "tiles", "validate", "serve", "deploy", "rollback", "init",
            "check-deploy"]  # fmt: skip
ENGLISH = re.compile(
    r"\b(?:usage|show this help|required|positional arguments|optional arguments|the|of|and|"
    r"with|without|only|folder|file|error|invalid|not found|cannot|could not|feature|field|"
    r"layer|give|run|set)\b|options:|\(default|default:",
    re.IGNORECASE,
)
"""English words that would betray an untranslated message (none of them is French)."""


def english(text: str) -> list[str]:
    return ENGLISH.findall(text)


def trame(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command as a person runs it: a process of its own, its exit code and its words."""
    return subprocess.run(
        [sys.executable, "-m", "trame.cli", *args], cwd=cwd, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


def test_the_subcommands_listed_here_are_all_the_commands():
    commands = next(a for a in parser()._actions if a.dest == "command")
    assert sorted(commands.choices) == sorted(COMMANDS)


def test_trame_help_is_french(tmp_path):
    done = trame("--help", cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith("utilisation : trame [-h] [--version] COMMANDE ...")
    assert "options :" in done.stdout and "commandes :" in done.stdout
    assert "affiche cette aide et s'arrête" in done.stdout
    assert english(done.stdout) == [], done.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_help_is_french(command, capsys):
    with pytest.raises(SystemExit) as stopped:
        main([command, "--help"])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"utilisation : trame {command} [-h]")
    assert "options :" in out and "-h, --help  " in out and "affiche cette aide et s'arrête" in out
    assert english(out) == [], out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "trame: erreur : il manque les arguments obligatoires COMMANDE"),
        (
            ["bâtir"],
            "trame: erreur : argument COMMANDE : choix invalide : 'bâtir' (choisissez parmi",
        ),
        (["build", "--theme", "etat"], "trame build: erreur : argument --theme : choix invalide"),
        (["serve", "--port", "huit"], "argument --port : 'huit' n'est pas un nombre entier"),
        (["build", "--vite"], "trame: erreur : arguments non reconnus : --vite"),
        (["init"], "trame init: erreur : il manque les arguments obligatoires DONNÉES"),
        (["init", "x", "--epci", "1", "--insee", "2"], "--insee : interdit avec l'argument --epci"),
        (["deploy", "--keep"], "argument --keep : il faut une valeur"),
    ],
)
def test_argparse_errors_are_french(argv, message, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("utilisation : trame") and message in err
    assert english(err) == [], err


def test_argparse_is_english_again_outside_trame():
    """The translation lasts while a trame parser works: other parsers keep their own words."""
    import argparse

    parser().parse_args(["build"])
    assert argparse.ArgumentParser(prog="autre").format_usage().startswith("usage: autre")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def bad_insee(territory: Path) -> None:
    path = territory.parent / "demo" / "communes.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"][0]["properties"]["code"] = "5960"
    path.write_text(json.dumps(data), encoding="utf-8")


@pytest.mark.parametrize(
    ("damage", "argv", "wording"),
    [
        pytest.param(
            lambda t: (t.parent / "demo" / "communes.geojson").unlink(),
            ["validate"],
            ["communes.geojson : fichier introuvable ; vérifiez son chemin dans la configuration"],
            id="missing file",
        ),
        pytest.param(
            lambda t: edit(
                t.parent / "legendes" / "srce-ddtm59.yml", "OBJ_ASSI == '01'", "OBJECTIF == '01'"
            ),
            ["validate"],
            [
                "srce_fictif.gpkg, couche 'reservoirs_biodiversite' : ",
                "l'élément de légende 'reservoirs-a-preserver' utilise le champ 'OBJECTIF', absent "
                "de la couche (champs : ",
                "; corrigez son filtre (filter) ou son identifiant (id_field) dans la légende",
            ],
            id="bad field",
        ),
        pytest.param(
            bad_insee,
            ["build", "--output", "site", "--no-pdf", "-q"],
            [
                "communes.geojson : objet n° 1 : code INSEE '5960' du champ 'code' absent ou mal "
                "formé ; il faut 5 caractères, par exemple 59606 ou 2A004 : corrigez-le dans le "
                "fichier",
            ],
            id="bad INSEE code",
        ),
        pytest.param(
            lambda t: None,
            ["deploy", "--site", "site"],
            [
                "indiquez où déployer, une seule fois : TARGET=/var/www/tvb ou "
                "utilisateur@hôte:/var/www/tvb, S3_BUCKET=…, ou GIT_REMOTE=… (donné : aucun)"
            ],
            id="deploy without target",
        ),
    ],
)
def test_user_errors_are_one_french_line_exit_2_no_traceback(territory, damage, argv, wording):
    damage(territory)
    done = trame(*argv, "--config", str(territory), cwd=territory.parent)
    assert done.returncode == 2, done.stderr
    err = done.stderr
    assert "Traceback" not in err and done.stdout == ""
    assert err.startswith("trame: erreur : ") and err.count("\n") == 1, err
    for words in wording:
        assert words in err
    assert english(err.replace(str(territory.parent), "")) == [], err
    assert not (territory.parent / "site").exists()
