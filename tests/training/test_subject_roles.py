"""No fit reads a test subject: every trained model (GaitSet, the WGAN with its calibrated critic,
GaitGAN, the frame detector) comes out bit-identical when every frame of the test subjects is
replaced, while replacing the validation subjects' frames moves the critic's calibration and the
detector's validation reading (so the test can fail)."""

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.store import FrameStore, StoreWriter
from gaitcore.models.detector import load_detector
from gaitcore.models.gaitgan import load_gaitgan
from gaitcore.models.gaitset import load_gaitset
from gaitcore.models.wgan import load_wgan
from gaitcore.training.detector import DetectorTrainConfig, train_attack_detector, train_detector
from gaitcore.training.gaitgan import GaitGANTrainConfig, train_gaitgan
from gaitcore.training.gaitset import GaitSetTrainConfig, train_gaitset
from gaitcore.training.spade import SpadeTrainConfig, training_keys
from gaitcore.training.wgan import WGANTrainConfig, train_wgan

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TRAIN, VALIDATION, TEST = (1, 4), (5, 6), (7, 8)
GAITSET = GaitSetTrainConfig(channels=(2, 4, 4), hidden_dim=4, subjects_per_batch=3, sequences_per_subject=2,
                             frames_per_sequence=3, iterations=3, checkpoint_every=3, log_every=3, seed=1,
                             device="cpu", train_subjects=TRAIN)
WGAN = WGANTrainConfig(dim=2, latent_dim=8, batch_size=4, critic_steps=1, iterations=2, checkpoint_every=2,
                       log_every=2, seed=1, device="cpu", train_subjects=TRAIN, calibration_subjects=VALIDATION,
                       calibration_real=16, calibration_fake=16, bn_refresh_batches=1, score_batch=8)
DETECTOR = DetectorTrainConfig(train_subjects=TRAIN, validation_subjects=VALIDATION, width=2, batch_size=4,
                               iterations=3, validation_frames=16, seed=1)
GAITGAN = GaitGANTrainConfig(width=2, batch_size=4, iterations=2, checkpoint_every=2, log_every=2, seed=1,
                             device="cpu", train_subjects=TRAIN)


def build_store(root: Path) -> Path:
    """Subjects 001-008, nm-01..06 at 0 and 90 degrees (GaitGAN's GEIs need nm at 90), 5-8 frames each."""
    rng = np.random.default_rng(0)
    with StoreWriter(root, CASIA_B) as writer:
        for subject in range(1, 9):
            for seq in range(1, 7):
                for view in (0, 90):
                    frames = np.zeros((int(rng.integers(5, 9)), 64, 64), dtype=np.uint8)
                    for t, frame in enumerate(frames):
                        left = 16 + 2 * subject + t
                        frame[8:56, left : left + 6 + view // 30] = 255
                    writer.add(SequenceKey(CASIA_B, f"{subject:03d}", "nm", seq, view), frames)
    return root


def replace_frames_of(store_root: Path, copy: Path, subjects: tuple[int, int]) -> Path:
    """A copy of the store whose frames of subjects ``first..last`` are inverted (nothing else changes)."""
    shutil.copytree(store_root, copy)
    store = FrameStore(copy)
    frames = np.memmap(copy / "frames.u8", dtype=np.uint8, mode="r+", shape=store.frames.shape)
    labels = {f"{i:03d}" for i in range(subjects[0], subjects[1] + 1)}
    for row in store.index.index[store.index["subject"].isin(labels)]:
        start, count = int(store.index.at[row, "frame_start"]), int(store.index.at[row, "frame_count"])
        frames[start : start + count] = 255 - frames[start : start + count]
    frames.flush()
    return copy


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("roles")
    clean = build_store(root / "clean")
    return clean, replace_frames_of(clean, root / "test_replaced", TEST), replace_frames_of(
        clean, root / "validation_replaced", VALIDATION)


def _states(modules) -> list[dict[str, torch.Tensor]]:
    return [module.state_dict() for module in modules]


def _equal(a, b) -> bool:
    return all(x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x) for x, y in zip(a, b, strict=True))


def _trained(kind: str, store_root: Path, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    weights, checkpoint = out / f"{kind}.pt", out / f"{kind}_resume.pt"
    if kind == "gaitset":
        train_gaitset(store_root, weights, checkpoint, GAITSET)
        return _states([load_gaitset(weights)[0]])
    if kind == "wgan":
        train_wgan(store_root, weights, checkpoint, WGAN)
        model = load_wgan(weights)
        return _states([model.generator, model.critic, model.realism])
    train_gaitgan(store_root, weights, checkpoint, GAITGAN)
    return _states(load_gaitgan(weights).networks().values())


@pytest.mark.parametrize("kind", ["gaitset", "wgan", "gaitgan"])
def test_replacing_every_test_subject_frame_changes_no_trained_model(stores, tmp_path, kind):
    clean, test_replaced, _ = stores
    assert _equal(_trained(kind, clean, tmp_path / "clean"), _trained(kind, test_replaced, tmp_path / "replaced"))


def test_the_critic_calibration_reads_the_validation_subjects(stores, tmp_path):
    clean, _, validation_replaced = stores
    before = load_wgan(_wgan_weights(clean, tmp_path / "a")).realism.state_dict()
    after = load_wgan(_wgan_weights(validation_replaced, tmp_path / "b")).realism.state_dict()
    assert not all(torch.equal(before[k], after[k]) for k in before)


def _wgan_weights(store_root: Path, out: Path) -> Path:
    out.mkdir(parents=True)
    train_wgan(store_root, out / "w.pt", out / "r.pt", WGAN)
    return out / "w.pt"


def test_spade_pairs_come_from_training_subjects_only():
    keys = training_keys(replace(SpadeTrainConfig(), train_subjects=TRAIN), subjects=8)
    assert keys and {key.subject for key in keys} == {f"{i:03d}" for i in range(1, 5)}


def test_the_frame_detector_trains_on_training_subjects_and_reads_validation_ones(stores, tmp_path):
    clean, test_replaced, validation_replaced = stores
    generator = _wgan_weights(clean, tmp_path / "wgan")
    runs = {}
    for name, store in (("clean", clean), ("test", test_replaced), ("validation", validation_replaced)):
        result = train_detector(store, generator, tmp_path / f"{name}.pt", DETECTOR)
        runs[name] = (load_detector(tmp_path / f"{name}.pt"), result.validation_auc)
    (model, extra), auc = runs["clean"]
    assert _equal(_states([model]), _states([runs["test"][0][0]])) and auc == runs["test"][1]
    assert _equal(_states([model]), _states([runs["validation"][0][0]])) and auc != runs["validation"][1]
    assert extra["train_config"]["train_subjects"] == list(TRAIN) and extra["validation_auc"] == auc
    assert extra["data"]["store_content"] == FrameStore(clean).content_hash and len(extra["generator_weights"]) == 32


def test_the_attack_judge_trains_on_half_the_validation_subjects_and_reads_the_other_half(stores, tmp_path):
    """The second judge: real frames of the training subjects against attack frames of validation
    subject 005; read on subject 006's real and attack frames. Test subjects never matter; the
    held-out half's attack frames move only the reading, the fitted half's the weights."""
    clean, test_replaced, _ = stores
    rng = np.random.default_rng(3)
    frames = (rng.random((12, 64, 64)) > 0.6).astype(np.uint8) * 255  # attack-like frames of two subjects
    subjects = np.array(["005"] * 6 + ["006"] * 6, dtype=object)
    runs = {}
    for name, store, bank in (("clean", clean, frames), ("test", test_replaced, frames),
                              ("held", clean, np.concatenate([frames[:6], 255 - frames[6:]])),
                              ("fitted", clean, np.concatenate([255 - frames[:6], frames[6:]]))):
        result = train_attack_detector(store, bank, subjects, tmp_path / f"{name}.pt", DETECTOR)
        runs[name] = (load_detector(tmp_path / f"{name}.pt"), result.validation_auc)
    (model, extra), auc = runs["clean"]
    assert _equal(_states([model]), _states([runs["test"][0][0]])) and auc == runs["test"][1]
    assert _equal(_states([model]), _states([runs["held"][0][0]])) and auc != runs["held"][1]
    assert not _equal(_states([model]), _states([runs["fitted"][0][0]]))
    assert (extra["fitted_subjects"], extra["held_out_subjects"]) == (["005"], ["006"])
    assert extra["attack_frames"] == 12 and extra["validation_auc"] == auc
    with pytest.raises(ValueError, match="at least 2 validation subjects"):
        train_attack_detector(clean, frames, ["005"] * 12, tmp_path / "one.pt", DETECTOR)
