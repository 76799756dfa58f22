"""GEIs (known answers), adversarial sequences, GaitGAN templates and the 1-NN Manhattan evaluator."""

import numpy as np
import pandas as pd
import pytest
import torch

from gaitcore.data.gei import gait_energy_image, store_geis
from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.store import FrameStore, StoreWriter
from gaitcore.evaluation.gei import adversarial_sequence, gaitgan_templates, template_rank1
from gaitcore.evaluation.protocols import casia_b_protocol
from gaitcore.evaluation.rank1 import rank1_identities


def test_gei_is_the_mean_of_the_frames_in_unit_range():
    frames = np.zeros((4, 64, 64), dtype=np.uint8)
    frames[0, 0, 0] = 255  # on in 1 of 4 frames
    frames[:2, 10, 20] = 255  # 2 of 4
    frames[:, 63, 63] = 255  # always
    frames[:, 5, 5] = 51  # a grey level: 0.2 in every frame
    gei = gait_energy_image(frames)
    assert gei.dtype == np.float32 and gei.shape == (64, 64)
    assert gei[0, 0] == 0.25 and gei[10, 20] == 0.5 and gei[63, 63] == 1.0
    assert gei[5, 5] == pytest.approx(0.2)
    assert gei.sum() == pytest.approx(0.25 + 0.5 + 1.0 + 0.2)


@pytest.mark.parametrize("frames", [np.zeros((0, 64, 64), np.uint8), np.zeros((3, 64, 44), np.uint8),
                                    np.zeros((3, 64, 64), np.float32)])
def test_gei_refuses_empty_cropped_or_float_sequences(frames):
    with pytest.raises(ValueError):
        gait_energy_image(frames)


def test_store_geis_follow_the_rows(tmp_path):
    with StoreWriter(tmp_path / "s", CASIA_B) as writer:
        for seq, value in ((1, 255), (2, 85)):
            frames = np.zeros((3, 64, 64), dtype=np.uint8)
            frames[0, :, :seq] = value
            writer.add(SequenceKey(CASIA_B, "001", "nm", seq, 0), frames)
    store = FrameStore(tmp_path / "s")
    geis = store_geis(store, store.index.iloc[::-1])
    assert geis[0, 0, 1] == pytest.approx(85 / 255 / 3) and geis[1, 0, 1] == 0 and geis[1, 0, 0] == pytest.approx(1 / 3)


def test_adversarial_sequence_alteration_and_insertion():
    original = np.arange(5, dtype=np.uint8)[:, None, None] * np.ones((1, 64, 64), np.uint8)
    generated = np.full((2, 64, 64), 200, np.uint8)
    altered = adversarial_sequence(original, generated, [0, 3], "alteration")
    assert altered[:, 0, 0].tolist() == [200, 1, 2, 200, 4]
    inserted = adversarial_sequence(original, generated, [0, 3], "insertion")
    assert inserted[:, 0, 0].tolist() == [200, 0, 1, 200, 2, 3, 4]
    with pytest.raises(ValueError):
        adversarial_sequence(original, generated, [0, 5], "alteration")


class Constant(torch.nn.Module):
    """A stand-in generator: every GEI maps to mid grey (0 in [-1, 1])."""

    def forward(self, x):
        return torch.zeros_like(x)


def test_templates_are_the_generated_gei_except_the_real_gei_at_the_target_view():
    geis = np.random.default_rng(0).random((3, 64, 64), dtype=np.float32)
    templates = gaitgan_templates(Constant(), geis, [0, 90, 18], batch=2)
    assert templates.shape == (3, 64 * 64)
    np.testing.assert_allclose(templates[[0, 2]], 127.5)
    np.testing.assert_allclose(templates[1], 255 * geis[1].ravel(), rtol=1e-6)
    np.testing.assert_allclose(gaitgan_templates(Constant(), geis, [0, 90, 18], target_view=None), 127.5)
    np.testing.assert_allclose(gaitgan_templates(Constant(), geis, [0, 36, 18]), 127.5)  # none at the target view


def _index(rows):
    return pd.DataFrame(rows, columns=["dataset", "subject", "condition", "seq", "view"])


def test_one_nearest_neighbour_accuracy_per_view_pair_excludes_the_identical_view():
    """Gallery nm-01 of 075 (template a) and 076 (template b) at views 0 and 18; probes of 075: nm-05 at
    view 0 (nearest a), nm-05 at view 18 (nearest b: wrong) and nm-06 at view 18 (nearest a)."""
    a, b = np.zeros(4), np.array([2.0, 0, 0, 0])
    rows, templates = [], []
    for view in (0, 18):
        for subject, template in (("075", a), ("076", b)):
            rows.append((CASIA_B, subject, "nm", 1, view))
            templates.append(template)
    rows += [(CASIA_B, "075", "nm", 5, 0), (CASIA_B, "075", "nm", 5, 18), (CASIA_B, "075", "nm", 6, 18)]
    templates += [np.array([0.0, 1, 1, 1]),  # L1 to a 3, to b 5
                  np.array([1.8, 0.9, 0.9, 0.0]),  # L1 to a 3.6, to b 2.0
                  np.array([0.0, 1.6, 0, 0])]  # L1 to a 1.6, to b 3.6
    long, summary = template_rank1(np.asarray(templates, np.float32), _index(rows), casia_b_protocol((75, 76)))
    acc = {(p, g): v for p, g, v in zip(long["probe_view"], long["gallery_view"], long["rank1"])}
    assert acc == {(0, 0): 100.0, (0, 18): 100.0, (18, 0): 50.0, (18, 18): 50.0}
    by_view = dict(zip(summary["probe_view"], summary["rank1"]))
    assert by_view == {0: 100.0, 18: 50.0, "mean": 75.0}  # per probe view only the other gallery view counts


def test_manhattan_and_euclidean_nearest_neighbours_can_disagree():
    """L1 sums absolute differences: one large difference beats several small ones under L2 only."""
    gallery = np.array([[3.0, 0, 0, 0], [1.0, 1, 1, 1]])  # 075, 076
    probe = np.zeros((1, 4))
    rows = [(CASIA_B, "075", "nm", 1, 0), (CASIA_B, "076", "nm", 1, 0), (CASIA_B, "075", "nm", 1, 18),
            (CASIA_B, "076", "nm", 1, 18), (CASIA_B, "075", "nm", 5, 0)]
    templates = np.concatenate([gallery, gallery, probe]).astype(np.float32)
    long, _ = template_rank1(templates, _index(rows), casia_b_protocol((75, 76)))
    # L1: 075 at 3, 076 at 4 -> 075 (right); L2: 075 at 3, 076 at 2 -> 076 would be wrong.
    assert set(long["rank1"]) == {100.0}
    assert rank1_identities(probe[:, None], gallery[:, None], ["075", "076"], [0, 0], [0])[0, 0] == "076"
