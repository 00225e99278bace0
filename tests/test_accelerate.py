"""Strategies through Hugging Face Accelerate (skcl.strategies.AccelerateMixin), on the CPU."""

import numpy as np
import pytest
import torch

accelerate = pytest.importorskip("accelerate")

import skcl.strategies as strategies  # noqa: E402
from skcl.benchmarks import split_digits  # noqa: E402
from skcl.strategies import DATA_PARALLEL_COMPATIBLE, AccelerateMixin  # noqa: E402

NAMES = ["Naive", "Replay", "EWC", "LwF", "DER", "ICaRL", "GEM"]


def _accelerated(cls):
    return type("Accelerated" + cls.__name__, (AccelerateMixin, cls), {})


@pytest.mark.parametrize("name", NAMES)
def test_one_cpu_process_trains_exactly_like_the_plain_strategy(name):
    cls = getattr(strategies, name)
    train, test = split_digits(n_experiences=3, random_state=0)
    common = dict(max_epochs=2, lr=0.05, random_state=0)
    plain = cls(**common)
    accel = _accelerated(cls)(accelerator=accelerate.Accelerator(cpu=True), **common)
    for exp in train:
        plain.partial_fit(exp)
        accel.partial_fit(exp)
    for a, b in zip(plain.module_.parameters(), accel.module_.parameters(), strict=True):
        assert torch.equal(a, b)
    X = np.concatenate([e.X for e in test])
    np.testing.assert_array_equal(plain.predict(X), accel.predict(X))


def test_a_failed_experience_rolls_back_through_the_accelerator():
    train, _ = split_digits(n_experiences=2, random_state=0)
    net = _accelerated(strategies.Replay)(accelerator=accelerate.Accelerator(cpu=True),
                                          lr=0.05, random_state=0).partial_fit(train[0])
    before = [p.detach().clone() for p in net.module_.parameters()]
    with pytest.raises(ValueError, match="features"):
        net.partial_fit(train[1].X[:, :10], train[1].y)
    assert all(torch.equal(a, b) for a, b in zip(before, net.module_.parameters(), strict=True))
    net.partial_fit(train[1])  # and it goes on
    assert net.n_experiences_ == 2


def test_precision_is_left_to_one_of_them():
    net = _accelerated(strategies.Naive)(accelerator=accelerate.Accelerator(cpu=True),
                                         precision="bf16-mixed")
    with pytest.raises(ValueError, match="precision='32'"):
        net.partial_fit(np.zeros((4, 3), np.float32), [0, 1, 0, 1])


def test_every_strategy_has_its_data_parallel_entry():
    named = {n for n in strategies.__all__ if isinstance(getattr(strategies, n), type)
             and issubclass(getattr(strategies, n), strategies.BaseStrategy)
             and n != "BaseStrategy"}
    assert named == set(DATA_PARALLEL_COMPATIBLE)


def test_two_cpu_processes_keep_identical_models(tmp_path):
    """DDP over two gloo processes: every training minibatch cut in two, gradients averaged
    (benchmarks/accelerate_ddp.py checks the models agree after every experience)."""
    import pathlib
    import subprocess
    import sys

    script = pathlib.Path(__file__).parents[1] / "benchmarks" / "accelerate_ddp.py"
    out = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
         "--standalone", str(script), "--strategies", "Naive", "Replay"],
        capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.count("2 processes") == 2
    assert "models identical across processes" in out.stdout
