"""`skcl run` builds the image benchmarks by name from a TOML file."""

import json

from tests.test_datasets_images import _write_mnist


def test_toml_runs_split_mnist_from_idx_files(tmp_path, monkeypatch):
    from skcl import cli

    monkeypatch.setenv("SKCL_DATA", str(tmp_path / "skcl_data"))
    _write_mnist(tmp_path / "mnist", n_train=60, n_test=30)
    out = tmp_path / "report"
    (tmp_path / "exp.toml").write_text(f"""
[experiment]
name = "split MNIST from IDX"
seeds = [0]
output = "{out.as_posix()}"
metrics = ["accuracy"]

[stream]
builder = "split_mnist"
root = "{(tmp_path / 'mnist').as_posix()}"
n_experiences = 2
shuffle = false
dtype = "float32"
flatten = true
verify = false

[[strategies]]
class = "Naive"
max_epochs = 1
module__hidden_sizes = [8]
""")
    assert cli.main(["run", str(tmp_path / "exp.toml")]) == 0
    report = json.loads((out / "report.json").read_text())
    assert list(report["summary"]) == ["Naive"]
