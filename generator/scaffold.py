"""``trame new``: a territory folder (config, legend, text, data) that builds at once.

It starts from the demo territory (fictitious data, copied into the folder) so that
``cd <folder> && trame build`` works straight away; the officer then replaces the data and edits
the config, the legend and the text. Values come from the packaged demo config, so the two never
drift apart; only the comments, for the person who edits the file, are written here (in French).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from .errors import UserError
from .paths import DEMO_CONFIG

CONFIG_NAME = "trame.yml"
"""The config ``trame build`` reads by default in the current folder."""
LEGEND_NAME = "legende.yml"
TEXT_NAME = "texte.md"
DATA_NAME = "donnees"

LEGEND_HEADER = """\
# Légende du territoire : une entrée par élément de la carte. Chaque entrée donne la couche
# source (chemin relatif au dossier des données, `data_dir` de trame.yml), un filtre facultatif
# sur les attributs, le type de géométrie, l'identifiant, les attributs montrés au public et le
# style. Celle-ci suit la carte SRCE-TVB de la DDTM du Nord (standard COVADIS SRCE) ; adaptez
# les noms de couches et de champs à vos données. Référence : README de Trame, « legend item ».
"""


def _text(value: object) -> str:
    """A YAML scalar for any text: JSON strings are valid YAML and escape everything."""
    return json.dumps(value, ensure_ascii=False)


def config_text(name: str, slug: str, demo: dict) -> str:
    communes = demo["communes"]
    tiles = demo.get("tiles") or {}
    marker = demo.get("fictitious_marker") or {}
    sources = "".join(f"  - {_text(s)}\n" for s in demo.get("sources") or [])
    postcodes = communes.get("postcodes_field")
    return f"""\
# Territoire {_text(name)} : configuration de Trame.
# Construire le site depuis ce dossier :  trame build   (le site va dans site/, les tuiles dans
# tiles/) ; le voir :  trame serve  (http://127.0.0.1:8000).
# Ce dossier part des données FICTIVES de démonstration (dossier {DATA_NAME}/) : remplacez-les par
# les vôtres, puis adaptez ci-dessous les chemins et les noms de champs, la légende ({LEGEND_NAME})
# et le texte explicatif ({TEXT_NAME}). Toute clé inconnue est refusée ; référence complète :
# README de Trame, « Config reference ».

# Nom du territoire, affiché sur chaque page.
name: {_text(name)}
# Identifiant : minuscules, chiffres et tirets (nomme le dossier des tuiles, tiles/<slug>/).
slug: {slug}
# Données inventées : chaque page le signale. Mettez false pour vos vraies données, et retirez
# fictitious_marker (les valeurs d'attribut qui marquent une donnée fictive).
fictitious: true
fictitious_marker: {{{", ".join(f"{k}: {_text(v)}" for k, v in marker.items())}}}
# Date des données (AAAA-MM-JJ), producteur, sources et licence : montrés sur chaque page.
data_date: {demo["data_date"]}
producer: {_text(demo.get("producer", ""))}
sources:
{sources}licence: {_text(demo.get("licence", ""))}
# Texte explicatif (Markdown, titres ###), relatif à ce fichier.
explanatory_text: {TEXT_NAME}
# Dossier des données, relatif à ce fichier (l'option --data-dir le remplace).
data_dir: {DATA_NAME}
# Tuiles vectorielles : nom de l'archive .pmtiles et niveaux de zoom.
tiles: {{name: {slug}, minzoom: {tiles.get("minzoom", 0)}, maxzoom: {tiles.get("maxzoom", 14)}}}

# Couche des communes : code INSEE et nom ; chemin relatif au dossier des données
# ({{path: fichier.gpkg, layer: couche}} pour un GeoPackage).
communes:
  source: {{path: {_text(communes["source"]["path"])}}}
  insee_field: {communes["insee_field"]}
  name_field: {communes["name_field"]}
{f"  postcodes_field: {postcodes}  # facultatif : codes postaux séparés par « ; »" if postcodes else ""}

# La légende : le fichier des éléments de la carte, relatif à ce fichier.
legend: {LEGEND_NAME}
"""


def _legend_text(source: Path) -> str:
    """The demo's legend under a French header (its own leading comments are for developers)."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return LEGEND_HEADER + "".join(lines)


def new_territory(folder: Path, name: str | None = None) -> list[Path]:
    """Write a territory folder on the demo data; returns what it wrote (config first)."""
    from .config import load_config
    from .territory import slugify

    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UserError(
            f"{folder} existe déjà et n'est pas un dossier vide : donnez un nouveau dossier à "
            "`trame new`, rien n'a été écrit"
        )
    name = name or folder.resolve().name
    slug = slugify(name)
    demo = yaml.safe_load(DEMO_CONFIG.read_text(encoding="utf-8"))
    demo_data = DEMO_CONFIG.parent / demo.get("data_dir", ".")

    folder.mkdir(parents=True, exist_ok=True)
    config = folder / CONFIG_NAME
    config.write_text(config_text(name, slug, demo), encoding="utf-8")
    legend = folder / LEGEND_NAME
    legend.write_text(_legend_text(DEMO_CONFIG.parent / demo["legend"]), encoding="utf-8")
    text = folder / TEXT_NAME
    shutil.copyfile(DEMO_CONFIG.parent / demo["explanatory_text"], text)
    data = folder / DATA_NAME
    data.mkdir()
    for path in sorted(demo_data.iterdir()):
        if path.is_file() and path.suffix != ".py":  # the data, not the script that made it
            shutil.copyfile(path, data / path.name)
    load_config(config)  # what `trame build` will read: a mistake here is ours, not the user's
    return [config, legend, text, data]
