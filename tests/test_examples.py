"""Every example runs (at small settings), so none can rot."""

import importlib.util
import json
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_partial_fit_accuracy_matrix(tmp_path, capsys):
    out = tmp_path / "m.png"
    _load("partial_fit_accuracy_matrix").main(["--n-experiences", "2", "--epochs", "1",
                                               "--output", str(out)])
    assert out.stat().st_size > 5000
    text = capsys.readouterr().out
    assert "average_accuracy" in text and "StreamForgetting" in text


def test_grid_search(capsys):
    _load("grid_search").main(["--n-experiences", "2", "--epochs", "1"])
    text = capsys.readouterr().out
    assert text.count("'lr'") == 5  # four candidates and the best


def test_experiment_toml(tmp_path, capsys):
    from skcl import cli

    text = (EXAMPLES / "experiment.toml").read_text()
    text = (text.replace("n_experiences = 5", "n_experiences = 2")
                .replace("max_epochs = 3", "max_epochs = 1")
                .replace("seeds = [0, 1]", "seeds = [0]")
                .replace('output = "skcl-report-example"', f'output = "{tmp_path.as_posix()}"'))
    path = tmp_path / "experiment.toml"
    path.write_text(text)
    assert cli.main(["run", str(path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    # the summary is per stream (a file may declare several), then per strategy
    assert list(report["summary"]) == ["split_digits"]
    assert list(report["summary"]["split_digits"]) == ["Naive", "Cumulative", "JointTraining"]
    assert (tmp_path / "runs" / "Naive_seed0" / "csv" / "eval_results.csv").exists()


def test_dask_run(capsys):
    pytest.importorskip("distributed")
    _load("dask_run").main(["--n-experiences", "2", "--epochs", "1"])
    assert "Cumulative" in capsys.readouterr().out


def test_pipeline_replay(capsys):
    _load("pipeline_replay").main()
    lines = capsys.readouterr().out.splitlines()
    with_buffer = float(lines[0].rsplit(":", 1)[1])
    without = float(lines[1].rsplit(":", 1)[1])
    assert with_buffer > without + 0.1
