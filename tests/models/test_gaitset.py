"""GaitSet: size and shapes, batches of sets of different lengths, and the exact incremental path."""

import numpy as np
import pytest
import torch

from gaitcore.errors import CheckpointError
from gaitcore.models import GaitSet, build_gaitset, load_gaitset, save_gaitset, silhouettes_to_input

NARROW = (8, 16, 16)


def silhouettes(frames: int, seed: int) -> torch.Tensor:
    """Binary walker-like blobs on a blank background: blank pixels tie at exactly 0 in every map."""
    gen = torch.Generator().manual_seed(seed)
    out = torch.zeros(frames, 64, 44)
    for t in range(frames):
        top = int(torch.randint(4, 12, (1,), generator=gen))
        left = int(torch.randint(12, 20, (1,), generator=gen))
        out[t, top : top + 40, left : left + 10] = 1.0
        stride = int(torch.randint(-4, 5, (1,), generator=gen))
        out[t, top + 40 : top + 52, left + 3 + stride : left + 7 + stride] = 1.0
    return out


@pytest.fixture(scope="module")
def model() -> GaitSet:
    torch.manual_seed(0)
    return GaitSet(channels=NARROW, hidden_dim=16).eval()


def test_paper_model_has_2594592_parameters_and_maps_sets_to_62_parts():
    model = GaitSet()
    assert sum(p.numel() for p in model.parameters()) == 2_594_592
    with torch.no_grad():
        assert model(torch.rand(2, 3, 64, 44)).shape == (2, 62, 256)
    narrow = build_gaitset(channels=(16, 32, 64), hidden_dim=128)
    with torch.no_grad():
        assert narrow(torch.rand(1, 4, 64, 44)).shape == (1, 62, 128)


def test_store_frames_are_cut_to_64x44_and_scaled():
    frames = np.zeros((2, 64, 64), dtype=np.uint8)
    frames[:, :, 10] = 255  # first kept column
    frames[:, :, 9] = 255  # cut
    frames[:, 5, 53] = 51  # last kept column
    x = silhouettes_to_input(frames)
    assert x.shape == (2, 64, 44) and x.dtype == torch.float32
    assert torch.equal(x[:, :, 0], torch.ones(2, 64))
    assert x[0, 5, 43] == pytest.approx(0.2)
    assert x.sum() == pytest.approx(2 * (64 + 0.2))
    with pytest.raises(ValueError, match="uint8"):
        silhouettes_to_input(frames.astype(np.float32))


def test_batch_of_sets_of_different_lengths_equals_one_by_one(model):
    lengths = [7, 1, 12, 3]
    sets = [silhouettes(n, seed) for seed, n in enumerate(lengths)]
    with torch.no_grad():
        batched = model(torch.cat(sets), lengths)
        single = torch.cat([model(s.unsqueeze(0)) for s in sets])
    # Set pooling is an exact max; the remaining difference is oneDNN choosing another
    # convolution kernel for a batch of one map than for several (observed up to ~1e-8).
    torch.testing.assert_close(batched, single, rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        same_length = model(torch.stack([sets[0], sets[0]]))
    torch.testing.assert_close(same_length[0], batched[0], rtol=1e-5, atol=1e-6)


def test_gradients_of_a_batch_equal_one_by_one(model):
    lengths = [5, 9]
    frames = torch.cat([silhouettes(n, 10 + n) for n in lengths]).requires_grad_(True)
    weights = torch.randn(2, model.num_parts, model.hidden_dim, generator=torch.Generator().manual_seed(1))
    (grad_batched,) = torch.autograd.grad((model(frames, lengths) * weights).sum(), frames)
    grads = []
    for i, part in enumerate(frames.detach().split(lengths)):
        part = part.clone().requires_grad_(True)
        grads.append(torch.autograd.grad((model(part.unsqueeze(0)) * weights[i]).sum(), part)[0])
    scale = grad_batched.abs().max()
    torch.testing.assert_close(grad_batched, torch.cat(grads), rtol=0, atol=1e-5 * float(scale))


def full_and_cached(model, sequences, new, positions):
    """Features and new-frame gradients of the full forward and of the cached path.

    ``positions[i]`` are the places of ``new[i]`` in sequence ``i`` once altered/inserted; the
    other places hold the unchanged frames ``sequences[i]`` in order.
    """
    weights = torch.randn(len(sequences), model.num_parts, model.hidden_dim, generator=torch.Generator().manual_seed(3))
    full_new = [n.clone().requires_grad_(True) for n in new]
    assembled, lengths = [], []
    for old, fresh, pos in zip(sequences, full_new, positions, strict=True):
        total = len(old) + len(fresh)
        is_new = torch.zeros(total, dtype=torch.bool)
        is_new[pos] = True
        frames = torch.empty(total, 64, 44)
        frames = frames.index_put((torch.nonzero(~is_new).squeeze(1),), old)
        frames = frames.index_put((torch.tensor(pos),), fresh)
        assembled.append(frames)
        lengths.append(total)
    full = model(torch.cat(assembled), lengths)
    full_grads = torch.autograd.grad((full * weights).sum(), full_new)

    old_positions = []
    for old, fresh, pos in zip(sequences, new, positions, strict=True):
        keep = [p for p in range(len(old) + len(fresh)) if p not in set(pos)]
        old_positions.append(torch.tensor(keep))
    cache = model.pooled_cache(torch.cat(sequences), [len(s) for s in sequences], torch.cat(old_positions))
    cached_new = torch.cat(new).clone().requires_grad_(True)
    cached = model.forward_with_cache(cache, cached_new, [len(n) for n in new],
                                      torch.cat([torch.tensor(p) for p in positions]))
    (cached_grad,) = torch.autograd.grad((cached * weights).sum(), cached_new)
    return full, torch.cat(full_grads), cached, cached_grad


def cnn_is_batch_invariant(model, frames):
    """Whether the frame CNN gives the same bits for a frame alone in a small batch as in a large one."""
    with torch.no_grad():
        big = model.frame_maps(frames)
        small = model.frame_maps(frames[:2])
    return all(torch.equal(a[:2], b) for a, b in zip(big, small, strict=True))


@pytest.mark.parametrize(
    "case",
    ["alter first K (paper)", "insert at the end", "random places", "K differs per sequence"],
)
def test_incremental_set_pooling_equals_full_forward_in_features_and_gradients(model, case):
    sequences = [silhouettes(9, 1), silhouettes(14, 2), silhouettes(6, 3)]
    if case == "alter first K (paper)":
        new = [silhouettes(2, 11 + i) for i in range(3)]
        positions = [[0, 1]] * 3
    elif case == "insert at the end":
        new = [silhouettes(2, 21 + i) for i in range(3)]
        positions = [[len(s), len(s) + 1] for s in sequences]
    elif case == "random places":
        new = [silhouettes(3, 31 + i) for i in range(3)]
        positions = [[1, 5, 10], [0, 7, 16], [2, 3, 8]]
    else:
        new = [silhouettes(k, 41 + k) for k in (1, 3, 2)]
        positions = [[4], [0, 2, 15], [0, 7]]
    # Exact copies of unchanged frames among the new ones: every pixel ties, so only the
    # position-aware merge can pick the same winner as the full forward.
    new[0][0] = sequences[0][3]
    full, full_grad, cached, cached_grad = full_and_cached(model, sequences, new, positions)
    assert full_grad.abs().max() > 0
    scale = float(full_grad.abs().max())
    torch.testing.assert_close(cached, full, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(cached_grad, full_grad, rtol=0, atol=1e-6 * scale)
    if cnn_is_batch_invariant(model, torch.cat(sequences)):
        # Max pooling is exact and the merge picks the full forward's winner (the first frame
        # among ties), so on batch-invariant kernels (oneDNN on CPU for batches >= 2) the two
        # paths are bit-identical.
        assert torch.equal(cached, full)
        assert torch.equal(cached_grad, full_grad)


def test_cache_with_default_positions_is_cat_cached_then_new_max(model):
    """New frames placed after the cached ones: the merge is torch.cat([cached_max, new]).max(0)."""
    old, fresh = silhouettes(8, 5), silhouettes(2, 6)
    fresh[1] = old[0]  # ties everywhere with a cached frame: the cached frame must win
    cache = model.pooled_cache(old.unsqueeze(0))
    with torch.no_grad():
        maps = model.frame_maps(fresh)
        expected = [torch.cat([c, m]).max(0).values.unsqueeze(0) for c, m in zip(cache.maxima, maps, strict=True)]
        expected = model.head(*expected)
        assert torch.equal(model.forward_with_cache(cache, fresh.unsqueeze(0)), expected)


def test_cache_subset_and_argument_checks(model):
    sequences = [silhouettes(5, 7), silhouettes(8, 8)]
    cache = model.pooled_cache(torch.cat(sequences), [5, 8])
    sub = cache.select([1])
    assert len(sub) == 1 and sub.counts == (8,)
    fresh = silhouettes(2, 9)
    with torch.no_grad():
        direct = model.forward_with_cache(model.pooled_cache(sequences[1].unsqueeze(0)), fresh.unsqueeze(0))
        assert torch.equal(model.forward_with_cache(sub, fresh, [2]), direct)
    with pytest.raises(ValueError, match="2 sets of new frames for a cache of 1"):
        model.forward_with_cache(sub, fresh, [1, 1])
    with pytest.raises(ValueError, match="increase"):
        model.pooled_cache(sequences[0], [5], positions=torch.tensor([0, 2, 1, 3, 4]))
    with pytest.raises(ValueError, match="sum to"):
        model(torch.cat(sequences), [5, 7])


def test_weights_round_trip_and_damaged_file(tmp_path, model):
    path = save_gaitset(model, tmp_path / "w.pt", extra={"iterations": 3})
    loaded, extra = load_gaitset(path)
    assert extra == {"iterations": 3} and loaded.channels == NARROW
    x = silhouettes(4, 1).unsqueeze(0)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="w.pt.*Fix: rerun the rule `train_gaitset`"):
        load_gaitset(path)
