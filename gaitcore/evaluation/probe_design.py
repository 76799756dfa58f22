"""Which probes an attack job attacks: a balanced design of subjects over views.

The paper attacks every probe of the 50 test subjects (Sec. 4.1, Table 1). A reduced budget must
not tie a view to one subject: a probe view's accuracy would then say more about that subject than
about the view, and nothing about the spread between subjects. The design here gives each view
``count`` distinct subjects with one probe each:

* the subjects (sorted labels) stand on a circle; view ``p`` of ``V`` starts at position
  ``floor(p * n / V)`` and takes the ``count`` subjects from there (wrapping round), so every
  subject is attacked at ``count * V / n`` views (rounded up or down; at most one apart) and every
  view has ``count`` distinct subjects;
* the ``k``-th subject of a view gets that view's probe sequence number ``k mod s`` of its ``s``
  probe sequences (NM: nm-05, nm-06 alternately), so both sequences are used at every view;
* a smaller budget takes the first ``count'`` subjects of each view's run: its probes are a subset
  of the larger budget's, so a cell run at the smaller budget (targeted attacks, baselines,
  variants, the video attack) pairs with the headline cells on the probes they share.

``slot`` (``k``) is recorded with every probe, so a consumer can take the smaller budget's probes
out of a larger job's table (``slot < count'``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from gaitcore.evaluation.protocols import Protocol

SLOT = "slot"  # the probe's place in its view's run of subjects (0 = first)


def view_subjects(subjects: Sequence[str], view_position: int, views: int, count: int) -> list[str]:
    """The ``count`` subjects attacked at the view at ``view_position`` of ``views``, in slot order."""
    ordered = sorted(subjects)
    n = len(ordered)
    if not 0 < count <= n:
        raise ValueError(f"a view can have 1 to {n} distinct subjects of the {n} available, asked for {count}")
    start = view_position * n // views
    return [ordered[(start + k) % n] for k in range(count)]


def design_probes(index: pd.DataFrame, protocol: Protocol, condition: str, views: Sequence[int],
                  count: int | None) -> pd.DataFrame:
    """The rows of ``index`` (the feature index) attacked for ``condition`` at ``views`` in that order,
    each with its ``slot``; ``count`` subjects per view (None: every probe of every subject, the paper's
    design, slot 0 for all).

    A view's place on the circle is its position among the protocol's views, so a job over a subset
    of the views probes, at each, what a job over all of them would.
    """
    probes = index[protocol.probe_mask(index, condition)]
    sequences = [seq for _, seq in dict(protocol.probes)[condition]]
    chosen = []
    for view in views:
        of_view = probes[probes["view"] == view].sort_values(["subject", "seq"])
        if count is None:
            chosen.append(of_view.assign(**{SLOT: 0}))
            continue
        position = protocol.views.index(view) if view in protocol.views else 0
        subjects = sorted(of_view["subject"].unique())
        if not subjects:
            chosen.append(of_view.assign(**{SLOT: 0}))
            continue
        picked = view_subjects(subjects, position, len(protocol.views), min(count, len(subjects)))
        for slot, subject in enumerate(picked):
            own = of_view[of_view["subject"] == subject]
            wanted = sequences[slot % len(sequences)]
            row = own[own["seq"] == wanted]
            chosen.append((row if len(row) else own.iloc[:1]).assign(**{SLOT: slot}))
    if not chosen:
        return probes.iloc[:0].assign(**{SLOT: 0})
    return pd.concat(chosen)


__all__ = ["SLOT", "design_probes", "view_subjects"]
