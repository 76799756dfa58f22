"""The balanced probe design: distinct subjects per view, every subject used about equally, smaller
budgets nested in larger ones, and the default config's headline cells meeting the power target."""

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from gaitcore.data.layout import CASIA_B_VIEWS
from gaitcore.evaluation.probe_design import SLOT, design_probes, view_subjects
from gaitcore.evaluation.protocols import casia_b_protocol

ROOT = Path(__file__).resolve().parents[2]
FIFTY = [f"{i:03d}" for i in range(75, 125)]


def casia_b_index(subjects=range(75, 125)) -> pd.DataFrame:
    """A feature index of CASIA-B's layout: every subject, condition, sequence and view."""
    cells = [("nm", s) for s in range(1, 7)] + [("bg", 1), ("bg", 2), ("cl", 1), ("cl", 2)]
    rows = [{"dataset": "casia_b", "subject": f"{subject:03d}", "condition": condition, "seq": seq, "view": view}
            for subject in subjects for condition, seq in cells for view in CASIA_B_VIEWS]
    return pd.DataFrame(rows)


def test_every_view_gets_distinct_subjects_and_every_subject_about_equal_use():
    runs = [view_subjects(FIFTY, p, 11, 10) for p in range(11)]
    assert all(len(set(run)) == 10 for run in runs)
    uses = Counter(subject for run in runs for subject in run)
    assert set(uses) == set(FIFTY) and set(uses.values()) == {2, 3}  # 110 slots over 50 subjects
    assert len({tuple(sorted(run)) for run in runs}) == 11  # no two views share their subjects
    # A smaller budget is the first of each view's run: its probes are among the larger budget's.
    assert all(view_subjects(FIFTY, p, 11, 4) == runs[p][:4] for p in range(11))
    assert view_subjects(FIFTY, 10, 11, 50) == FIFTY[45:] + FIFTY[:45]  # wraps round


def test_a_budget_beyond_the_subjects_is_refused():
    with pytest.raises(ValueError, match="1 to 50 distinct subjects of the 50 available, asked for 51"):
        view_subjects(FIFTY, 0, 11, 51)


def test_design_probes_alternates_the_probe_sequences_and_records_slots():
    index = casia_b_index()
    probes = design_probes(index, casia_b_protocol(), "bg", [90, 0], 4)
    assert probes["view"].tolist() == [90] * 4 + [0] * 4  # the job's view order
    assert probes[SLOT].tolist() == [0, 1, 2, 3] * 2 and probes["seq"].tolist() == [1, 2, 1, 2] * 2
    assert probes["subject"].tolist()[:4] == ["097", "098", "099", "100"]  # view 90: 5 * 50 // 11 = 22 -> 097
    # The same view in a job of its own probes the same subjects.
    alone = design_probes(index, casia_b_protocol(), "bg", [90], 4)
    assert alone["subject"].tolist() == probes["subject"].tolist()[:4]
    # No budget: every probe of every subject (the paper's design).
    everything = design_probes(index, casia_b_protocol(), "nm", [0], None)
    assert len(everything) == 100 and set(everything["seq"]) == {5, 6}


def test_the_default_headline_cells_meet_the_power_target():
    """Issue "readings you can trust": every headline cell holds >= 100 probes from >= 45 of the 50
    test subjects, and every view's probes come from >= 5 distinct subjects."""
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    first, last = config["subjects"]["casia_b"]["test"]
    budget = config["attack"]["subjects_per_view"]
    index = casia_b_index(range(first, last + 1))
    for condition in config["attack"]["conditions"]:
        probes = design_probes(index, casia_b_protocol((first, last)), condition, list(CASIA_B_VIEWS),
                               budget["headline"])
        assert len(probes) >= 100 and probes["subject"].nunique() >= 45
        assert probes.groupby("view")["subject"].nunique().min() >= 5
        per_subject = probes["subject"].value_counts()
        assert per_subject.max() - per_subject.min() <= 1
        other = design_probes(index, casia_b_protocol((first, last)), condition, list(CASIA_B_VIEWS), budget["other"])
        keys = ["subject", "seq", "view"]
        assert len(other.merge(probes[keys], on=keys)) == len(other)  # nested: paired on shared probes
        assert np.all(other.groupby("view")[SLOT].max() < budget["other"])
