"""Fixtures shared by the whole suite."""

import pytest
import torch


@pytest.fixture
def one_torch_thread():
    """Run torch on one thread: tiny convolutions are faster so (far faster when another job holds
    a core), and bit-identical CPU results need the same thread count in every run compared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
