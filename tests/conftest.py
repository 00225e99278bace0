import os

import pytest
import torch

# Two cores on CI: one torch thread per test process keeps runs stable and fast.
torch.set_num_threads(1)
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def digits_streams():
    from skcl.benchmarks import split_digits

    return split_digits(n_experiences=5, random_state=0)
