"""Smoke runs of the benchmark scripts (their full runs live in benchmarks/, not here)."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import torch

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_speed_script_quick_run(capsys):
    threads = torch.get_num_threads()
    try:
        _load("speed").main(["--quick"])
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert "split-digits" in out and "fit: raw" in out and "20-experience stream" in out


def test_same_network_models_share_the_body():
    bench = _load("architectural_family")
    models = dict(bench.same_network_models(side=8, pooling="stride", seed=0))
    naive = models["Naive (CNN trained end to end, 5 epochs)"]()
    slda = models["StreamingLDA (the same CNN body, frozen)"]()
    # the same initialization: StreamingLDA's extractor is Naive's body
    for a, b in zip(naive.module[0].parameters(), slda.module.parameters()):
        assert torch.equal(a, b)
    X = np.random.RandomState(0).rand(20, 64).astype(np.float32)
    slda.partial_fit(X, np.arange(20) % 2)
    assert slda.means_.shape == (2, 128)
