"""The victims' one interface: the incremental pair against full forwards, the registry and loading."""

import pytest
import torch

from gaitcore.errors import CheckpointError
from gaitcore.models._blocks import FullForwardIncremental
from gaitcore.models.detector import build_detector, save_detector
from gaitcore.models.gaitgl import build_gaitgl
from gaitcore.models.gaitpart import build_gaitpart
from gaitcore.models.gaitset import build_gaitset
from gaitcore.models.victims import (
    architecture,
    architecture_of,
    import_opengait,
    load_victim,
    uses_channels_last,
)
from tests.models.test_opengait import opengait_state
from tests.models.walkers import silhouettes

BUILDS = {
    "GaitSet": lambda: build_gaitset(channels=(2, 4, 8), hidden_dim=8),
    "GaitPart": lambda: build_gaitpart(channels=(2, 4, 8), hidden_dim=8),
    "GaitGL": lambda: build_gaitgl(channels=(2, 4, 8), class_num=5),
}


def split(lengths, new_places):
    """Clean frames and places of sequences of ``lengths`` whose frames at ``new_places`` are new."""
    kept, kept_pos, new_counts = [], [], []
    for n, places in zip(lengths, new_places, strict=True):
        kept_pos += [p for p in range(n) if p not in places]
        kept.append(n - len(places))
        new_counts.append(len(places))
    return kept, torch.tensor(kept_pos), new_counts, torch.tensor([p for places in new_places for p in places])


def naive_features(model, clean, kept, kept_pos, new, new_counts, new_pos):
    """Each full sequence built frame by frame, then the model's own forward, one set at a time."""
    out, c, m = [], 0, 0
    for n_kept, n_new in zip(kept, new_counts, strict=True):
        frames = {int(p): clean[c + i] for i, p in enumerate(kept_pos[c : c + n_kept])}
        frames |= {int(p): new[m + i] for i, p in enumerate(new_pos[m : m + n_new])}
        out.append(model(torch.stack([frames[p] for p in sorted(frames)])[None])[0])
        c, m = c + n_kept, m + n_new
    return torch.stack(out)


@pytest.mark.parametrize("name", list(BUILDS))
def test_the_full_forward_pair_equals_the_models_forward_on_the_assembled_sequences(name):
    torch.manual_seed(0)
    model = BUILDS[name]().eval()
    lengths, places = (9, 6, 11), ([0, 4], [5], [1, 2, 10])
    kept, kept_pos, new_counts, new_pos = split(lengths, places)
    clean = silhouettes(sum(kept), seed=1)
    new = silhouettes(sum(new_counts), seed=2, noise=0.3).requires_grad_(True)
    cache = FullForwardIncremental.pooled_cache(model, clean, kept, positions=kept_pos)
    features = FullForwardIncremental.forward_with_cache(model, cache, new, new_counts, positions=new_pos)
    expected = naive_features(model, clean, kept, kept_pos, new, new_counts, new_pos)
    torch.testing.assert_close(features, expected, rtol=1e-5, atol=1e-6)
    (grad,) = torch.autograd.grad(features.square().sum(), new)
    (naive_grad,) = torch.autograd.grad(expected.square().sum(), new)
    torch.testing.assert_close(grad, naive_grad, rtol=1e-4, atol=1e-6)
    assert grad.abs().sum() > 0
    # A subset of the cache, in another order, is the cache of that subset.
    sub = cache.select([2, 0])
    assert sub.counts == (kept[2], kept[0])
    rows = new_counts[0], new_counts[2]
    sub_new = torch.cat([new[sum(new_counts[:2]):], new[: new_counts[0]]])
    sub_pos = torch.cat([new_pos[sum(new_counts[:2]):], new_pos[: new_counts[0]]])
    subset = FullForwardIncremental.forward_with_cache(model, sub, sub_new, (rows[1], rows[0]), positions=sub_pos)
    torch.testing.assert_close(subset, features[[2, 0]], rtol=1e-5, atol=1e-6)


def test_gaitsets_exact_fast_path_equals_the_full_forward_pair():
    """The set-pooling fast path and the full forward on the assembled sequences: the same features
    and the same gradient with respect to the new frames."""
    torch.manual_seed(0)
    model = BUILDS["GaitSet"]().eval()
    kept, kept_pos, new_counts, new_pos = split((8, 12), ([3], [0, 6, 11]))
    clean = silhouettes(sum(kept), seed=3)
    new = silhouettes(sum(new_counts), seed=4, noise=0.5).requires_grad_(True)
    fast = model.forward_with_cache(model.pooled_cache(clean, kept, positions=kept_pos), new, new_counts,
                                    positions=new_pos)
    full = FullForwardIncremental.forward_with_cache(
        model, FullForwardIncremental.pooled_cache(model, clean, kept, positions=kept_pos), new, new_counts,
        positions=new_pos)
    torch.testing.assert_close(fast, full, rtol=1e-5, atol=1e-6)
    grads = [torch.autograd.grad(f.square().sum(), new)[0] for f in (fast, full)]
    torch.testing.assert_close(*grads, rtol=1e-4, atol=1e-6)


def test_a_new_frame_on_a_cached_place_is_refused():
    model = BUILDS["GaitPart"]().eval()
    cache = model.pooled_cache(silhouettes(4, seed=0), [4], positions=torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="position equals a cached frame"):
        model.forward_with_cache(cache, silhouettes(1, seed=1), [1], positions=torch.tensor([2]))
    with pytest.raises(ValueError, match="2 sets of new frames for a cache of 1"):
        model.forward_with_cache(cache, silhouettes(2, seed=1), [1, 1])


@pytest.mark.parametrize("name", list(BUILDS))
def test_load_victim_recognises_each_architecture_from_its_file(tmp_path, name, monkeypatch):
    torch.manual_seed(0)
    model = BUILDS[name]()
    spec = architecture(name.upper())
    assert architecture_of(model) is spec and spec.name == name
    spec.save(model, tmp_path / "w.pt", extra={"iterations": 3})
    reads = []
    load = torch.load
    monkeypatch.setattr(torch, "load", lambda *args, **kwargs: reads.append(args) or load(*args, **kwargs))
    loaded, extra = load_victim(tmp_path / "w.pt")
    assert len(reads) == 1  # the file is read once
    assert type(loaded) is type(model) and extra == {"iterations": 3} and not loaded.training
    frames = silhouettes(7, seed=5)
    torch.testing.assert_close(loaded(frames[None]), model.eval()(frames[None]))


def test_victim_registry_refusals(tmp_path):
    with pytest.raises(ValueError, match="unknown victim architecture 'GaitNet'; expected one of GaitSet, GaitPart"):
        architecture("GaitNet")
    with pytest.raises(TypeError, match="not a victim"):
        architecture_of(build_detector(2))
    save_detector(build_detector(2), tmp_path / "detector.pt")
    with pytest.raises(CheckpointError, match=r"detector\.pt.*not the weights of a victim.*gaitcore\.detector"):
        load_victim(tmp_path / "detector.pt")


def test_gaitset_keeps_its_fast_path_and_only_gaitgl_its_memory_layout():
    assert [isinstance(build(), FullForwardIncremental) for build in BUILDS.values()] == [False, True, True]
    assert [uses_channels_last(build()) for build in BUILDS.values()] == [True, True, False]


@pytest.mark.parametrize("name", list(BUILDS))
def test_an_imported_opengait_checkpoint_is_a_victims_weights_file(tmp_path, name):
    """Rule import_victim: the OpenGait checkpoint becomes gaitcore's weights file, read back by
    load_victim with the same features as the checkpoint itself; a mismatched one is refused."""
    torch.save({"model": opengait_state(name, seed=3), "iteration": 7}, tmp_path / "zoo.pt")
    import_opengait(tmp_path / "zoo.pt", name.lower(), tmp_path / "victim.pt")
    model, extra = load_victim(tmp_path / "victim.pt")
    assert architecture_of(model).name == name and extra == {"opengait": str(tmp_path / "zoo.pt")}
    frames = silhouettes(6, seed=4)[None]
    with torch.no_grad():
        torch.testing.assert_close(model(frames), load_victim(tmp_path / "zoo.pt", opengait=name)[0](frames))
    other = next(arch for arch in BUILDS if arch != name)
    with pytest.raises(CheckpointError, match=f"zoo.pt.*{name}"):
        import_opengait(tmp_path / "zoo.pt", other, tmp_path / "wrong.pt")
    assert not (tmp_path / "wrong.pt").exists()
