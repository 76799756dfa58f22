"""The white-box attack's results (He et al. Sec. 4.2, Appendix B): Fig. 5, Fig. 10 and Tables 2, 5
and 6 from every attack job's table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from gaitcore.attacks.records import load_attacks
from gaitcore.data.layout import CASIA_B
from gaitcore.evaluation.attack_accuracy import attack_accuracy, table2_targeted_success, targeted_view_table
from gaitcore.reporting.attack_figures import nontargeted_figure
from gaitcore.reporting.attack_tables import attack_accuracy_markdown, table2_markdown, targeted_view_markdown
from gaitcore.utils.tables import write_table

# Names aggregate_attacks() understands in its ``out`` mapping (e.g. a Snakemake rule's outputs).
OUTPUT_NAMES = (
    "attack_accuracy_csv", "attack_accuracy_md",
    "table2_csv", "table2_md",
    "table5_csv", "table5_md",
    "table6_csv", "table6_md",
    "fig5", "fig10",
)


def aggregate_attacks(
    paths: Sequence[str | Path], out: Mapping[str, str | Path], *, dataset: str = CASIA_B, dpi: int = 150
) -> dict[str, Path]:
    """Read attack tables and write the outputs named in ``out`` (keys from :data:`OUTPUT_NAMES`).

    * ``attack_accuracy_csv``/``_md``: every result, all datasets (:func:`attack_accuracy`);
    * ``table2_*``, ``table5_*``, ``table6_*``: paper Tables 2, 5, 6 of ``dataset``;
    * ``fig5``, ``fig10``: paper Fig. 5 (alteration) and Fig. 10 (insertion), nontargeted, of ``dataset``.

    A ``*_md`` name needs its ``*_csv``. Returns the written paths by name. Raises ``ValueError``
    on an empty ``paths``, unknown names, or (for per-dataset outputs) no rows of ``dataset``.
    """
    unknown = sorted(set(out) - set(OUTPUT_NAMES))
    if unknown:
        raise ValueError(f"unknown output names {unknown}; use {OUTPUT_NAMES}")
    for name in out:
        if name.endswith("_md") and name[:-3] + "_csv" not in out:
            raise ValueError(f"output {name!r} needs {name[:-3] + '_csv'!r} too")
    long = attack_accuracy(*load_attacks(paths))
    written: dict[str, Path] = {}

    def table(name: str, frame: pd.DataFrame, markdown: str) -> None:
        if f"{name}_csv" in out:
            md = out.get(f"{name}_md")
            write_table(frame, out[f"{name}_csv"], md, markdown=markdown)
            written[f"{name}_csv"] = Path(out[f"{name}_csv"])
            if md is not None:
                written[f"{name}_md"] = Path(md)

    table("attack_accuracy", long, attack_accuracy_markdown(long))
    if "table2_csv" in out:
        frame = table2_targeted_success(long, dataset)
        table("table2", frame, table2_markdown(frame, dataset))
    for name, kind in (("table5", "insertion"), ("table6", "alteration")):
        if f"{name}_csv" in out:
            frame = targeted_view_table(long, kind, dataset)
            table(name, frame, targeted_view_markdown(frame, kind, dataset))
    if "fig5" in out or "fig10" in out:
        for name, kind in (("fig5", "alteration"), ("fig10", "insertion")):
            if name in out:
                written[name] = nontargeted_figure(long, out[name], kind=kind, dataset=dataset, dpi=dpi)
    return written
