"""Fixtures shared by the whole suite."""

import pytest
import torch

from tests.attacks.world import build_world


@pytest.fixture
def one_torch_thread():
    """Run torch on one thread: tiny convolutions are faster so (far faster when another job holds
    a core), and bit-identical CPU results need the same thread count in every run compared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The tiny attack world (store, GaitSet, WGAN, stored features) of :func:`tests.attacks.world.build_world`."""
    return build_world(tmp_path_factory.mktemp("attack-world"))
