"""SPADE training (He et al. Sec. 3.3, Appendix A): pairs, TTUR steps, checkpoints, SIGKILL resume."""

import textwrap
from dataclasses import replace

import numpy as np
import pytest
import torch

from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.synthetic import SyntheticConfig
from gaitcore.errors import CheckpointError
from gaitcore.models.spade import load_spade
from gaitcore.training.spade import SpadeTrainConfig, person_pairs, train_spade, training_keys, usable_frames
from gaitcore.video.frames import person_box
from gaitcore.video.sources import SyntheticVideos
from tests.training.sigkill import kill_after_first_checkpoint

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SOURCE = SyntheticVideos(SyntheticConfig.for_dataset(CASIA_B, subjects=3, frames_min=8, frames_max=10))
TINY = SpadeTrainConfig(
    size=32, ngf=1, ndf=2, nhidden=2, n_layers_d=2, batch_size=2, iterations=4, pair_sequences=3,
    frames_per_sequence=2, checkpoint_every=2, log_every=2, seed=5, device="cpu", train_subjects=(1, 2),
)


def test_pairs_are_person_crops_on_black_centred_on_the_person():
    rgb, mask = SOURCE.video(SequenceKey(CASIA_B, "001", "nm", 1, 90))
    frames = usable_frames(mask)
    assert len(frames) > 0
    masks, images = person_pairs(rgb, mask, frames, 64, 0.1)
    assert masks.shape == (len(frames), 64, 64) and images.shape == (len(frames), 64, 64, 3)
    assert set(np.unique(masks)) <= {0, 255}
    assert (images[masks == 0] == 0).all() and (images[masks > 0] > 0).any(axis=-1).mean() > 0.9
    for crop in masks:
        box = person_box(crop)
        assert abs(box.height - 64 / 1.2) <= 2  # the person's height fills all but the margins
        assert abs(box.top - 64 * 0.1 / 1.2) <= 2
        assert abs(box.centre - 32) <= 3


def test_training_keys_are_the_training_subjects_every_condition_and_view():
    keys = training_keys(TINY, subjects=3)
    assert {k.subject for k in keys} == {"001", "002"} and len(keys) == 2 * 110


def test_config_rejects_unknown_and_bad_values():
    with pytest.raises(ValueError, match=r"unknown setting.*'lr'"):
        SpadeTrainConfig.from_mapping({"lr": 1e-4})
    with pytest.raises(ValueError, match="multiple of 32"):
        SpadeTrainConfig(size=40)
    with pytest.raises(ValueError, match="betas"):
        SpadeTrainConfig(betas=(0.0, 1.0))
    assert SpadeTrainConfig.from_mapping({"betas": [0, 0.9]}).betas == (0.0, 0.9)


def _same_weights(a, b) -> bool:
    return all(torch.equal(x, y) for net in ("generator", "discriminator")
               for x, y in zip(getattr(a, net).state_dict().values(), getattr(b, net).state_dict().values(),
                               strict=True))


def test_training_writes_weights_and_a_resumed_run_ends_like_a_straight_one(tmp_path):
    straight = train_spade(SOURCE, tmp_path / "a" / "weights.pt", tmp_path / "a" / "resume.pt", TINY)
    assert straight.iterations == 4 and straight.resumed_from == 0
    assert np.isfinite([straight.discriminator_loss, straight.generator_loss, straight.feature_matching]).all()
    model = load_spade(tmp_path / "a" / "weights.pt")
    assert model.extra["iterations"] == 4 and len(model.extra["history"]) == 2
    assert SpadeTrainConfig.from_mapping(model.extra["train_config"]) == TINY

    train_spade(SOURCE, tmp_path / "b" / "weights.pt", tmp_path / "b" / "resume.pt", replace(TINY, iterations=2))
    resumed = train_spade(SOURCE, tmp_path / "b" / "weights.pt", tmp_path / "b" / "resume.pt", TINY)
    assert resumed.resumed_from == 2 and resumed.iterations == 4
    assert _same_weights(load_spade(tmp_path / "b" / "weights.pt"), model)


def test_a_checkpoint_of_other_settings_is_refused_with_the_fix(tmp_path):
    train_spade(SOURCE, tmp_path / "weights.pt", tmp_path / "resume.pt", replace(TINY, iterations=2))
    with pytest.raises(CheckpointError, match=r"other settings \(ngf: 1 -> 2\)"):
        train_spade(SOURCE, tmp_path / "weights.pt", tmp_path / "resume.pt", replace(TINY, ngf=2))
    with pytest.raises(CheckpointError, match="raise spade.train.iterations"):
        train_spade(SOURCE, tmp_path / "weights.pt", tmp_path / "resume.pt", replace(TINY, iterations=1))


TRAIN_SCRIPT = textwrap.dedent(
    """
    import sys, torch
    from dataclasses import replace
    from tests.training.test_spade_training import SOURCE, TINY
    from gaitcore.training.spade import train_spade
    torch.set_num_threads(1)
    train_spade(SOURCE, sys.argv[1], sys.argv[2], replace(TINY, iterations=int(sys.argv[3]), checkpoint_every=1))
    """
)


def test_training_killed_with_sigkill_resumes_and_ends_like_an_uninterrupted_run(tmp_path):
    iterations = 6
    weights, checkpoint = tmp_path / "killed" / "weights.pt", tmp_path / "killed" / "resume.pt"
    kill_after_first_checkpoint(TRAIN_SCRIPT, str(weights), str(checkpoint), str(iterations),
                                checkpoint=checkpoint, weights=weights)
    config = replace(TINY, iterations=iterations, checkpoint_every=1)
    resumed = train_spade(SOURCE, weights, checkpoint, config)
    assert 0 < resumed.resumed_from < iterations and resumed.iterations == iterations
    train_spade(SOURCE, tmp_path / "straight" / "weights.pt", tmp_path / "straight" / "resume.pt", config)
    assert _same_weights(load_spade(weights), load_spade(tmp_path / "straight" / "weights.pt"))
