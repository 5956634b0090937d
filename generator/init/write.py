"""Write the territory folder: a commented config, the legend, the explanatory text.

YAML is written line by line (each value through :func:`yaml.safe_dump`, so quoting is right)
because the comments are the point: they say where each value comes from and what to check.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..read import zip_member
from .communes import INSEE_FIELD, NAME_FIELD, POSTCODES_FIELD, SelectedCommunes, Selection
from .legend import DraftLegend
from .recognise import SrceTable

CONFIG_NAME = "trame.yml"
LEGEND_NAME = "legende.yml"
COMMUNES_NAME = "communes.geojson"
TEXT_NAME = "texte.md"
FICTITIOUS = "FICTIF"


@dataclass(frozen=True)
class Territory:
    """What the config says about the territory, before it is written."""

    name: str
    slug: str
    data_date: dt.date
    date_origin: str
    fictitious: bool


def flow(value: Any) -> str:
    """One YAML value on one line: ``{color: '#2e7d32', width: 2}``, a quoted text…"""
    text = yaml.safe_dump(
        value, allow_unicode=True, default_flow_style=True, width=10**6, sort_keys=False
    )
    return text.removesuffix("\n").removesuffix("\n...").strip()


def data_date(tables: Sequence[SrceTable]) -> tuple[dt.date, str]:
    """The newest date of the SRCE files (a zip member's date, else the file's), and whence."""
    dates = []
    for table in tables:
        inside = zip_member(table.layer.path)
        if inside:
            with zipfile.ZipFile(inside[0]) as archive:
                stamp = archive.getinfo(inside[1]).date_time
            dates.append(dt.date(*stamp[:3]))
        elif table.layer.path.exists():
            dates.append(dt.datetime.fromtimestamp(table.layer.path.stat().st_mtime, dt.UTC).date())
    if not dates:
        return dt.date(2000, 1, 1), "aucune date trouvée : écrivez la vraie"
    return max(dates), "date des fichiers de données : vérifiez que c'est celle des données"


def write_config(
    folder: Path, territory: Territory, selected: SelectedCommunes, selection: Selection,
    legend: DraftLegend, tables: Sequence[SrceTable], inputs: Sequence[Path],
    todo: Sequence[str],
) -> None:  # fmt: skip
    layer = selected.layer.layer
    lines = [
        f"# Territoire « {territory.name} » : config écrite par `trame init` à partir de :",
        *(f"#   {path}" for path in inputs),
        "# Relisez les lignes marquées « À VÉRIFIER » ou « À COMPLÉTER », puis construisez le site :",
        f"#   trame build --config {CONFIG_NAME} --output site",
        "# Les chemins des données sont absolus, ou relatifs au dossier de ce fichier.",
        f"name: {flow(territory.name)}",
        f"slug: {territory.slug}",
    ]
    if territory.fictitious:
        lines += [
            f"# Données fictives : des objets portent ID_SRCE = '{FICTITIOUS}' ; le site le dira "
            "sur chaque page.",
            "fictitious: true",
            f"fictitious_marker: {flow({'ID_SRCE': FICTITIOUS})}",
        ]
    else:
        lines += [
            "# Passez à true pour des données de démonstration (un bandeau le dira).",
            "fictitious: false",
        ]
    sources = [
        f"Contours des communes : {layer.path.name}",
        "Couches SRCE-TVB : " + ", ".join(t.layer.name for t in tables),
    ]
    if selected.code_lists:
        sources.append(f"Codes postaux et EPCI : {selected.code_lists} (liste officielle, Etalab)")
    lines += [
        f"# À VÉRIFIER : {territory.date_origin}.",
        f"data_date: {territory.data_date.isoformat()}",
        "# À COMPLÉTER : qui a produit les données, et d'après quelle carte (pied de page).",
        'producer: ""',
        "# À VÉRIFIER : les sources citées sur chaque page ; nommez les producteurs et millésimes.",
        "sources:",
        *(f"  - {flow(text)}" for text in sources),
        "# À COMPLÉTER : la licence des données, par exemple « Licence Ouverte / Etalab 2.0 ».",
        'licence: ""',
        f"# À COMPLÉTER : le texte d'explication publié sur l'accueil ({TEXT_NAME}).",
        f"explanatory_text: {TEXT_NAME}",
        f"tiles: {flow({'name': territory.slug, 'minzoom': 0, 'maxzoom': 14})}",
        "",
        f"# {len(selected.rows)} communes ({selection.describe()}), copiées de",
        f"# {layer.label()}",
        f"# dans {COMMUNES_NAME} : contours tels quels"
        + (f", codes postaux et EPCI d'après {selected.code_lists}" if selected.code_lists else "")
        + ".",
        "communes:",
        f"  source: {flow({'path': COMMUNES_NAME})}",
        f"  insee_field: {INSEE_FIELD}",
        f"  name_field: {NAME_FIELD}",
        f"  postcodes_field: {POSTCODES_FIELD}",
        "",
        f"# La légende : {len(legend.items)} éléments, dans {LEGEND_NAME}.",
        f"legend: {LEGEND_NAME}",
    ]
    if todo:
        lines += ["", "# À ÉCRIRE À LA MAIN : ce que `trame init` n'a pas pu placer."]
        lines += [f"#  - {entry}" for entry in todo]
    (folder / CONFIG_NAME).write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_legend(folder: Path, legend: DraftLegend) -> None:
    lines = [
        "# Légende écrite par `trame init`, sur le modèle de la carte SRCE-TVB de la DDTM du Nord",
        "# (2016), avec les cours d'eau quand les données en ont. Changez librement libellés,",
        "# descriptions et couleurs ; les id servent d'adresses dans l'API, gardez-les stables.",
        "# Chaque élément retient les objets de sa couche source qui passent son filtre ; les",
        "# objets qu'aucun élément ne retient sont comptés et listés à la construction.",
    ]
    hinted: set[str] = set()
    for item in legend.items:
        data = item.data
        lines += ["", *(f"# {line}" for line in item.comment)]
        lines.append(f"- id: {data['id']}")
        for key in ("label", "description", "source", "filter", "geometry", "id_field"):
            if key in data:
                lines.append(f"  {key}: {flow(data[key])}")
        if "fields" in data:
            lines.append(f"  fields: {flow(data['fields'])}")
        lines.append(f"  style: {flow(data['style'])}")
        if item.excluded_hint and item.excluded_hint not in hinted:
            hinted.add(item.excluded_hint)
            lines.append(
                "  # Objets de la même couche écartés volontairement (ni réservoir ni corridor) :"
            )
            lines.append(f"  excluded: {flow(item.excluded_hint)}")
    (folder / LEGEND_NAME).write_text("\n".join(lines) + "\n", encoding="utf-8")


EXPLANATORY_TEXT = """\
### Qu'est-ce que la trame verte et bleue ?

Les plantes et les animaux ont besoin de lieux où vivre, et de passages pour aller de l'un à
l'autre. La trame verte et bleue est le réseau de ces lieux et de ces passages : la partie
« verte » concerne les milieux terrestres (bois, prairies, haies), la partie « bleue » les cours
d'eau et les zones humides. Le code de l'environnement la définit (articles L. 371-1 et
R. 371-19) ; le code de l'urbanisme demande aux documents d'urbanisme de la préserver et de la
remettre en bon état (article L. 101-2).

- Les **réservoirs de biodiversité** sont les espaces où la nature est la plus riche ou la
  mieux représentée.
- Les **corridors écologiques** relient les réservoirs : une vallée, une haie, une suite de
  mares et de bosquets. Les cours d'eau sont à la fois réservoirs et corridors.
- Les **obstacles** coupent ou freinent ces passages : route très fréquentée, voie ferrée,
  seuil ou écluse sur une rivière.

### Les données de ce site

Les couches présentées ici viennent du schéma régional de cohérence écologique (SRCE), au format
du standard de données COVADIS. Les chiffres par commune sont calculés à partir de ces couches ;
ils ne remplacent pas les documents officiels.
"""


def write_text(folder: Path) -> None:
    (folder / TEXT_NAME).write_text(EXPLANATORY_TEXT, encoding="utf-8")
