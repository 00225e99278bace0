"""`skcl run` builds the image benchmarks by name from a TOML file (with `root` or `path`)."""

import json

import pytest

from tests.test_datasets_images import _write_cifar10, _write_mnist


def _toml(out, stream: str, strategy: str = 'module__hidden_sizes = [8]') -> str:
    return f"""
[experiment]
name = "images from disk"
seeds = [0]
output = "{out.as_posix()}"
metrics = ["accuracy"]

[stream]
{stream}

[[strategies]]
class = "Naive"
max_epochs = 1
{strategy}
"""


def test_toml_runs_split_mnist_from_idx_files(tmp_path, monkeypatch):
    from skcl import cli

    monkeypatch.setenv("SKCL_DATA", str(tmp_path / "skcl_data"))
    _write_mnist(tmp_path / "mnist", n_train=60, n_test=30)
    out = tmp_path / "report"
    (tmp_path / "exp.toml").write_text(_toml(out, f"""
builder = "split_mnist"
root = "{(tmp_path / 'mnist').as_posix()}"
n_experiences = 2
shuffle = false
dtype = "float32"
flatten = true
verify = false
"""))
    assert cli.main(["run", str(tmp_path / "exp.toml")]) == 0
    report = json.loads((out / "report.json").read_text())
    assert list(report["summary"]["split_mnist"]) == ["Naive"]


@pytest.mark.parametrize("builder, extra, scenario", [
    ("permuted_mnist", "", "domain-incremental"),
    ("rotated_mnist", "", "domain-incremental"),
    ("split_mnist", "", "class-incremental"),
])
def test_mnist_family_by_name_with_path_and_transforms(tmp_path, monkeypatch, builder, extra,
                                                       scenario):
    """Every MNIST-family builder is nameable; `path` is `root`; uint8 images, a crop transform."""
    from skcl import cli

    monkeypatch.setenv("SKCL_DATA", str(tmp_path / "skcl_data"))
    _write_mnist(tmp_path / "mnist", n_train=60, n_test=30)
    out = tmp_path / "report"
    (tmp_path / "exp.toml").write_text(_toml(out, f"""
builder = "{builder}"
path = "{(tmp_path / 'mnist').as_posix()}"
n_experiences = 2
verify = false
{extra}""", "module__hidden_sizes = [8]\n"
                  'train_transform = [{ class = "RandomCrop", size = 28, padding = 2 }]'))
    assert cli.main(["run", str(tmp_path / "exp.toml")]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["runs"][0]["scenario"] == scenario
    assert report["experiment"]["streams"][0]["root"] == (tmp_path / "mnist").as_posix()
    assert "RandomCrop" in report["experiment"]["strategies"][0]["params"]["train_transform"]


def test_split_cifar10_by_name(tmp_path, monkeypatch):
    from skcl import cli

    monkeypatch.setenv("SKCL_DATA", str(tmp_path / "skcl_data"))
    _write_cifar10(tmp_path / "cifar")
    out = tmp_path / "report"
    (tmp_path / "exp.toml").write_text(_toml(out, f"""
builder = "split_cifar10"
root = "{(tmp_path / 'cifar').as_posix()}"
n_experiences = 5
verify = false
""", "module = \"SmallCNN\"\nmodule__input_shape = [3, 32, 32]\n"
                  "module__channels = [4, 8]\nmodule__hidden_size = 8"))
    assert cli.main(["run", str(tmp_path / "exp.toml")]) == 0
    report = json.loads((out / "report.json").read_text())
    R = report["runs"][0]["accuracy_matrix"]["matrix"]
    assert len(R) == 5 and len(R[0]) == 5


def test_every_image_builder_is_nameable():
    from skcl.experiment.registry import builders

    assert {"split_mnist", "permuted_mnist", "rotated_mnist", "split_fashion_mnist",
            "split_cifar10", "split_cifar100", "split_tiny_imagenet", "core50",
            "split_digits", "permuted_digits"} <= set(builders())
