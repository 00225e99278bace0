"""`skcl run` fails early: bad values and unusable output folders exit 2 before any training;
an earlier report is replaced, never mixed; Ctrl-C writes no report."""

import json
import sys

import pytest

from skcl import cli
from skcl.experiment import run as run_module

GOOD = """
[experiment]
output = "{out}"
metrics = ["accuracy"]

[stream]
builder = "split_digits"
n_experiences = 2

[[strategies]]
class = "Naive"
lr = 0.1
max_epochs = 1
module__hidden_sizes = [8]

[[strategies]]
class = "Replay"
mem_size = 10
max_epochs = 1
"""


@pytest.fixture
def trained(monkeypatch):
    """Records every run that starts training."""
    calls = []
    real = run_module.run_one

    def spy(spec, *args, **kwargs):
        calls.append(spec.label)
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(run_module, "run_one", spy)
    return calls


def _file(tmp_path, text=None, out=None):
    path = tmp_path / "exp.toml"
    out = out if out is not None else (tmp_path / "report").as_posix()
    path.write_text((text or GOOD).format(out=out))
    return path


@pytest.mark.parametrize("old, new, line, allowed", [
    ("lr = 0.1", 'lr = "fast"', 12, "'lr' must be a finite real number in [0, inf); got 'fast'"),
    ("max_epochs = 1\nmodule", "max_epochs = -1\nmodule", 13, "'max_epochs' must be an int in "
     "[1, inf); got -1"),
    ("mem_size = 10", 'mem_size = "ten"', 18, "'mem_size'"),
    ("n_experiences = 2", 'n_experiences = "five"', 8, "n_experiences=...) must be int; got "
     "'five'"),
    ("n_experiences = 2", "n_experiences = 0", 8, "must be >= 1"),
    ("mem_size = 10", "mem_size = 10\nbatch_size = 2.5", 19, "'batch_size'"),
])
def test_bad_values_exit_2_before_training(tmp_path, capsys, trained, old, new, line, allowed):
    assert old in GOOD
    path = _file(tmp_path, GOOD.replace(old, new, 1))
    assert cli.main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"line {line}" in err and allowed in err, err
    assert trained == [] and not (tmp_path / "report").exists()


def test_output_with_a_file_in_the_way_exits_2_before_training(tmp_path, capsys, trained):
    (tmp_path / "taken").write_text("not a folder")
    path = _file(tmp_path, out=(tmp_path / "taken").as_posix())
    assert cli.main(["run", str(path)]) == 2
    assert "cannot be used" in capsys.readouterr().err
    assert trained == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_output_without_permission_exits_2_before_training(tmp_path, capsys, trained):
    # /proc refuses new folders even to root, so this holds whoever runs the tests.
    path = _file(tmp_path, out="/proc/skcl-report-test")
    assert cli.main(["run", str(path)]) == 2
    assert "cannot be used" in capsys.readouterr().err
    assert trained == []


def test_an_earlier_report_is_replaced_not_mixed(tmp_path):
    report = tmp_path / "report"
    (report / "runs" / "Old_seed0").mkdir(parents=True)
    (report / "runs" / "Old_seed0" / "log.txt").write_text("old")
    for name in ("report.json", "report.html", "metrics.csv", "accuracy_matrix_Old.png",
                 "average_accuracy.png"):
        (report / name).write_text("old")
    (report / "notes.txt").write_text("mine")
    assert cli.main(["run", str(_file(tmp_path)), "-q"]) == 0
    assert not (report / "accuracy_matrix_Old.png").exists()
    assert not (report / "runs" / "Old_seed0").exists()
    assert (report / "notes.txt").read_text() == "mine"  # not a report file: kept
    data = json.loads((report / "report.json").read_text())
    assert list(data["summary"]["split_digits"]) == ["Naive", "Replay"]
    assert sorted(p.name for p in report.glob("*.png")) == [
        "accuracy_matrix_Naive.png", "accuracy_matrix_Replay.png", "average_accuracy.png"]


def test_ctrl_c_writes_no_report(tmp_path, capsys, monkeypatch):
    real = run_module.run_one
    calls = []

    def interrupted(spec, *args, **kwargs):
        calls.append(spec.label)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(spec, *args, **kwargs)

    monkeypatch.setattr(run_module, "run_one", interrupted)
    assert cli.main(["run", str(_file(tmp_path))]) == 130
    assert "no report written" in capsys.readouterr().err
    assert calls == ["Naive", "Replay"]
    assert not (tmp_path / "report" / "report.json").exists()
    assert not list((tmp_path / "report").glob("*.png"))
