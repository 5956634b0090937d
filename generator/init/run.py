"""``trame init``: inventory, recognition, selection, then the territory folder is written."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from ..territory import slugify
from .communes import Selection, select_communes, write_communes
from .discover import discover
from .legend import draft_legend
from .recognise import ROLE_NAMES, recognise
from .write import (
    COMMUNES_NAME,
    CONFIG_NAME,
    FICTITIOUS,
    LEGEND_NAME,
    TEXT_NAME,
    Territory,
    data_date,
    write_config,
    write_legend,
    write_text,
)

DEFAULT_NAME = "Mon territoire"


@dataclass
class InitResult:
    folder: Path
    config: Path
    communes: int
    items: list[str]
    todo: list[str] = field(default_factory=list)


def init_territory(
    data: Sequence[Path], selection: Selection, output: Path | None = None,
    force: bool = False, say: Callable[[str], None] = print,
) -> InitResult:  # fmt: skip
    """Look through ``data``, then write config, legend, communes and text into ``output``."""
    if not data:
        raise UserError("donnez au moins un fichier ou dossier de données")
    layers, problems = discover(data)
    say(f"{len(layers)} couche(s) trouvée(s) :")
    for layer in layers:
        say(f"  {layer.describe()}")
    for problem in problems:
        say(f"  attention : {problem}")
    found = recognise(layers)
    if found.communes is None:
        raise UserError(
            "aucune couche de communes parmi les données (il faut des surfaces avec un code "
            "INSEE et un nom, par exemple les champs INSEE_COM et NOM d'IGN Admin Express) ; "
            "ajoutez le fichier des communes à la commande"
        )
    if not found.tables:
        raise UserError(
            "aucune table SRCE reconnue parmi les données (noms N_SRCE_RESERVOIR_S_000… du "
            "standard COVADIS, ou champs ID_RESV, ID_CORR, ID_CEAU, ID_OBST) ; vérifiez les "
            "chemins donnés, ou écrivez la légende à la main (voir le README)"
        )
    say("Reconnu :")
    say(f"  communes : {found.communes.layer.label()}")
    for table in found.tables:
        say(f"  {ROLE_NAMES[table.role]} : {table.layer.label()} ({table.how})")

    selected = select_communes(found.communes, selection)
    name = selected.territory_name or DEFAULT_NAME
    folder = (output or Path(slugify(name))).resolve()
    todo = list(selected.todo)
    if not selected.territory_name:
        todo.append(f"nom du territoire : remplacez « {DEFAULT_NAME} » (name) dans {CONFIG_NAME}")
    _check_folder(folder, force)

    def path_text(path: Path) -> str:
        return os.path.relpath(path, folder) if path.is_relative_to(folder) else str(path)

    legend = draft_legend(found.tables, path_text)
    todo += legend.todo
    todo += [f"{layer.label()} : non utilisée, {reason}" for layer, reason in found.unplaced]
    if not legend.items:
        raise UserError(
            "aucun élément de légende n'a pu être écrit : " + " ; ".join(legend.todo or ["?"])
        )
    when, origin = data_date(found.tables)
    territory = Territory(
        name=name, slug=slugify(name), data_date=when, date_origin=origin,
        fictitious=legend.fictitious_values[FICTITIOUS] > 0,
    )  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    write_communes(folder / COMMUNES_NAME, selected)
    write_legend(folder, legend)
    write_text(folder)
    inputs = [p.resolve() for p in data]
    write_config(folder, territory, selected, selection, legend, found.tables, inputs, todo)

    say(f"{len(selected.rows)} communes retenues ({selection.describe()}) : {name}.")
    for note in selected.notes:
        say(f"  attention : {note}")
    say(f"Écrit dans {folder} : {CONFIG_NAME}, {LEGEND_NAME}, {COMMUNES_NAME}, {TEXT_NAME}.")
    say(f"Légende : {', '.join(item.data['id'] for item in legend.items)}.")
    if todo:
        say("À écrire à la main (aussi en fin de " + CONFIG_NAME + ") :")
        for entry in todo:
            say(f"  - {entry}")
    say(f"Ensuite : trame build --config {folder / CONFIG_NAME} --output site")
    return InitResult(
        folder=folder, config=folder / CONFIG_NAME, communes=len(selected.rows),
        items=[item.data["id"] for item in legend.items], todo=todo,
    )  # fmt: skip


def _check_folder(folder: Path, force: bool) -> None:
    """Never overwrite an officer's edited config without being told to."""
    written = [folder / name for name in (CONFIG_NAME, LEGEND_NAME, COMMUNES_NAME, TEXT_NAME)]
    existing = [path.name for path in written if path.exists()]
    if existing and not force:
        raise UserError(
            f"{folder} : {', '.join(existing)} existe(nt) déjà ; choisissez un autre dossier "
            "(--output) ou ajoutez --force pour les remplacer"
        )
