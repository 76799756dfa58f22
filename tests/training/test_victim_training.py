"""The victim trainer (``train_gaitset``) on every architecture: GaitPart and GaitGL train through the
same loop, their weights load back as their class, GaitGL's loss adds the cross-entropy of its
classifier, a killed GaitPart run resumes bit for bit, and the architecture is part of the checkpoint's
identity."""

import math
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from gaitcore.data.store import FrameStore
from gaitcore.errors import CheckpointError
from gaitcore.models.gaitgl import GaitGL, build_gaitgl
from gaitcore.models.gaitpart import GaitPart
from gaitcore.models.gaitset import GaitSet, silhouettes_to_input
from gaitcore.models.victims import load_victim
from gaitcore.training import GaitSetTrainConfig, TripletSampler, batch_all_triplet_loss, train_gaitset
from gaitcore.training.gaitset import training_rows
from tests.training.sigkill import kill_after_first_checkpoint
from tests.training.test_gaitset_training import TINY, build_store

pytestmark = pytest.mark.usefixtures("one_torch_thread")

GAITPART = replace(TINY, architecture="GaitPart", channels=(2, 4, 8), hidden_dim=8)
GAITGL = replace(TINY, architecture="GaitGL", channels=(2, 4, 8), hidden_dim=8)
TRAINING_SUBJECTS = ["001", "002", "003", "004"]  # TINY's train_subjects (1, 4); 005 is in the store too


@pytest.fixture(scope="module")
def store_root(tmp_path_factory) -> Path:
    return build_store(tmp_path_factory.mktemp("victims") / "casia_b")


def _states_equal(a: Path, b: Path) -> bool:
    x, y = load_victim(a)[0].state_dict(), load_victim(b)[0].state_dict()
    return x.keys() == y.keys() and all(torch.equal(x[k], y[k]) for k in x)


@pytest.mark.parametrize(("config", "model_class"), [(GAITPART, GaitPart), (GAITGL, GaitGL)],
                         ids=["GaitPart", "GaitGL"])
def test_gaitpart_and_gaitgl_train_and_their_weights_load_back_as_their_class(store_root, tmp_path, config,
                                                                             model_class):
    config = replace(config, iterations=6, snapshots=(3,))
    result = train_gaitset(store_root, tmp_path / "w.pt", tmp_path / "r.pt", config, snapshot_dir=tmp_path / "s")
    assert result.iterations == 6 and math.isfinite(result.last_loss) and result.last_loss > 0
    for path, iterations in ((tmp_path / "w.pt", 6), (tmp_path / "s" / "iteration_00003.pt", 3)):
        model, extra = load_victim(path)
        assert type(model) is model_class
        assert extra["iterations"] == iterations and extra["train_config"]["architecture"] == config.architecture
        assert model.channels == (2, 4, 8)
    if model_class is GaitPart:
        assert (model.parts, model.hidden_dim) == (16, 8)  # the paper's 16 parts
    else:
        assert model.class_num == len(TRAINING_SUBJECTS)  # one class per training subject of the run
    features = model(silhouettes_to_input(FrameStore(store_root).frames[:5]).unsqueeze(0))
    assert torch.isfinite(features).all()


def test_gaitgl_loss_is_the_triplet_loss_plus_the_cross_entropy_of_its_classifier(store_root, tmp_path):
    config = replace(GAITGL, iterations=1)
    result = train_gaitset(store_root, tmp_path / "w.pt", tmp_path / "r.pt", config)

    # The same first step by hand: the model as the trainer seeds and builds it, its first batch.
    torch.manual_seed(config.seed)
    model = build_gaitgl(channels=config.channels, class_num=len(TRAINING_SUBJECTS)).train()
    store = FrameStore(store_root)
    sampler = TripletSampler(store, training_rows(store, config), 3, 2, 4, seed=config.seed)
    assert sampler.subjects == TRAINING_SUBJECTS  # labels: positions of the subjects in sorted order
    frames, labels = sampler.sample()
    labels = torch.from_numpy(labels)
    features = model(silhouettes_to_input(frames))
    triplet = batch_all_triplet_loss(features, labels, margin=0.2).loss
    logits = model.classify(features)  # [6, 64 parts, 4 classes]
    cross_entropy = F.cross_entropy(logits.reshape(-1, 4), labels.repeat_interleave(64))
    assert float(cross_entropy.detach()) > 0.5  # the two terms are told apart
    assert result.last_loss == pytest.approx(float((triplet + cross_entropy).detach()), rel=1e-5)

    # The triplet loss alone leaves the classifier without a gradient; the trained one has moved.
    triplet.backward()
    assert model.classifier.weight.grad is None
    trained, _ = load_victim(tmp_path / "w.pt")
    assert not torch.equal(trained.classifier.weight, model.classifier.weight)


TRAIN_SCRIPT = textwrap.dedent(
    """
    import sys, torch
    from dataclasses import replace
    from gaitcore.training import train_gaitset
    from tests.training.test_victim_training import GAITPART
    torch.set_num_threads(1)
    config = replace(GAITPART, iterations=int(sys.argv[4]), checkpoint_every=5)
    train_gaitset(sys.argv[1], sys.argv[2], sys.argv[3], config)
    """
)


def test_killed_gaitpart_run_resumes_and_ends_like_an_uninterrupted_run(store_root, tmp_path):
    iterations = 60
    killed = tmp_path / "killed"
    weights, checkpoint = killed / "weights.pt", killed / "resume.pt"
    kill_after_first_checkpoint(TRAIN_SCRIPT, str(store_root), str(weights), str(checkpoint), str(iterations),
                                checkpoint=checkpoint, weights=weights)
    config = replace(GAITPART, iterations=iterations, checkpoint_every=5)
    resumed = train_gaitset(store_root, weights, checkpoint, config)
    assert 0 < resumed.resumed_from < iterations and resumed.iterations == iterations
    straight = tmp_path / "straight"
    assert train_gaitset(store_root, straight / "w.pt", straight / "r.pt", config).resumed_from == 0
    assert type(load_victim(weights)[0]) is GaitPart
    assert _states_equal(weights, straight / "w.pt")


def test_a_stopped_gaitgl_run_continues_with_its_batch_norm_statistics(store_root, tmp_path):
    config = replace(GAITGL, iterations=10, checkpoint_every=5)
    stopped = train_gaitset(store_root, tmp_path / "w.pt", tmp_path / "r.pt", replace(config, iterations=5))
    assert stopped.iterations == 5
    assert train_gaitset(store_root, tmp_path / "w.pt", tmp_path / "r.pt", config).resumed_from == 5
    train_gaitset(store_root, tmp_path / "straight.pt", tmp_path / "straight_r.pt", config)
    assert _states_equal(tmp_path / "w.pt", tmp_path / "straight.pt")


def test_an_unknown_architecture_or_a_gaitset_only_setting_is_refused():
    allowed = r"architecture must be one of GaitSet, GaitPart, GaitGL, got 'GaitNet'"
    with pytest.raises(ValueError, match=allowed):
        replace(TINY, architecture="GaitNet")
    with pytest.raises(ValueError, match=allowed):
        GaitSetTrainConfig.from_mapping({"architecture": "GaitNet"})
    assert GaitSetTrainConfig.from_mapping({"architecture": "gaitpart"}).architecture == "GaitPart"
    with pytest.raises(ValueError, match="frame_chunk chunks GaitSet's frame CNN; leave it null for GaitGL"):
        replace(GAITGL, frame_chunk=4)


def test_gaitgl_refuses_channels_last(store_root, tmp_path):
    with pytest.raises(ValueError, match="GaitGL has 3-D convolutions; set channels_last false"):
        train_gaitset(store_root, tmp_path / "w.pt", tmp_path / "r.pt", replace(GAITGL, channels_last=True))


def test_the_default_architecture_is_gaitset(store_root, tmp_path):
    assert GaitSetTrainConfig().architecture == "GaitSet" and TINY.architecture == "GaitSet"
    train_gaitset(store_root, tmp_path / "w.pt", tmp_path / "r.pt", replace(TINY, iterations=2))
    model, extra = load_victim(tmp_path / "w.pt")
    assert type(model) is GaitSet and extra["train_config"]["architecture"] == "GaitSet"


def test_the_architecture_is_part_of_the_checkpoint_identity(store_root, tmp_path):
    checkpoint = tmp_path / "resume.pt"
    train_gaitset(store_root, tmp_path / "w.pt", checkpoint, replace(TINY, iterations=4))
    other = r"resume\.pt: was written by a training run with other settings \(architecture: 'GaitSet' -> 'GaitPart'\)"
    with pytest.raises(CheckpointError, match=other):
        train_gaitset(store_root, tmp_path / "w.pt", checkpoint, replace(TINY, architecture="GaitPart"))

    # A checkpoint written before the setting existed trained GaitSet: it resumes as GaitSet only.
    payload = torch.load(checkpoint, weights_only=True)
    del payload["config"]["architecture"]
    torch.save(payload, checkpoint)
    with pytest.raises(CheckpointError, match=other):
        train_gaitset(store_root, tmp_path / "w.pt", checkpoint, replace(TINY, architecture="GaitPart"))
    assert train_gaitset(store_root, tmp_path / "w.pt", checkpoint, replace(TINY, iterations=6)).resumed_from == 4
