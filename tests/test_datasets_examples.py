"""The image-benchmark examples run end to end (at tiny settings)."""

import hashlib
import importlib.util
import re
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _accuracies(text):
    found = dict(re.findall(r"^(Naive|Replay)\s+final average accuracy ([0-9.]+)", text, re.M))
    assert sorted(found) == ["Naive", "Replay"], text
    return {k: float(v) for k, v in found.items()}


def test_split_fashion_mnist_cnn_example(capsys):
    from skcl.benchmarks import FASHION_MNIST_DEBIAN_PATH

    if not Path(FASHION_MNIST_DEBIAN_PATH).is_dir():
        pytest.skip("dataset-fashion-mnist is not installed on this machine")
    _load("split_fashion_mnist_cnn").main(["--n-experiences", "2", "--epochs", "1",
                                           "--train-samples", "200", "--test-samples", "50",
                                           "--mem-size", "50"])
    text = capsys.readouterr().out
    assert "shape (1, 28, 28)" in text
    assert all(0.0 <= a <= 1.0 for a in _accuracies(text).values())


def test_split_cifar10_example_falls_back_to_generated_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SKCL_DATA", str(tmp_path))
    monkeypatch.delenv("SKCL_CIFAR10", raising=False)
    _load("split_cifar10_resnet").main(["--train-samples", "50", "--test-samples", "4",
                                        "--nf", "2", "--batch-size", "25", "--mem-size", "10"])
    text = capsys.readouterr().out
    assert "GENERATED CIFAR-shaped data" in text and "shape (3, 32, 32)" in text
    _accuracies(text)


def test_split_cifar10_example_reads_the_archive(tmp_path, monkeypatch, capsys):
    from skcl.benchmarks import _cifar
    from tests.test_datasets_images import _write_cifar10

    path, _ = _write_cifar10(tmp_path, per_batch=10)
    spec = dict(_cifar._SPECS["cifar10"], n_train=50, n_test=20,
                archive_md5=hashlib.md5(path.read_bytes()).hexdigest())
    monkeypatch.setitem(_cifar._SPECS, "cifar10", spec)
    _load("split_cifar10_resnet").main(["--root", str(tmp_path), "--train-samples", "50",
                                        "--test-samples", "0", "--nf", "2",
                                        "--batch-size", "25", "--mem-size", "10"])
    text = capsys.readouterr().out
    assert "GENERATED" not in text and "split CIFAR-10: classes [[0, 1], [2, 3]" in text
    _accuracies(text)
