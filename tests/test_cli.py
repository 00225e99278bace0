"""`skcl run`: the default run, declared experiments, validation errors, joblib and Dask."""

import csv
import json

import numpy as np
import pytest

from skcl import cli
from skcl.experiment import ExperimentError, load_experiment, run_experiment

TINY = """
[experiment]
name = "tiny"
seeds = [0]
output = "{out}"
metrics = ["accuracy", "forgetting", "bwt", "timing", "exemplars"]
loggers = {loggers}

[stream]
builder = "split_digits"
n_experiences = 2

[[strategies]]
class = "Naive"
lr = 0.1
max_epochs = 1
module__hidden_sizes = [16]

[[strategies]]
class = "Cumulative"
name = "Cumul"
lr = 0.1
max_epochs = 1
module__hidden_sizes = [16]

[[strategies]]
class = "JointTraining"
lr = 0.1
max_epochs = 1
module__hidden_sizes = [16]
"""


def _write(tmp_path, text=None, loggers='["csv"]'):
    path = tmp_path / "exp.toml"
    path.write_text(text if text is not None
                    else TINY.format(out=(tmp_path / "report").as_posix(), loggers=loggers))
    return path


def test_run_experiment_file_writes_the_report(tmp_path, capsys):
    path = _write(tmp_path, loggers='["csv", "text", "tensorboard"]')
    assert cli.main(["run", str(path)]) == 0
    out = capsys.readouterr().out
    report = tmp_path / "report"
    assert f"report written to {report}" in out
    for name in ("Naive", "Cumul", "JointTraining"):
        line = next(ln for ln in out.splitlines() if ln.startswith(name + " "))
        assert len(line.split()) == 5
    data = json.loads((report / "report.json").read_text())
    assert list(data["summary"]) == ["split_digits"]
    assert list(data["summary"]["split_digits"]) == ["Naive", "Cumul", "JointTraining"]
    naive = data["runs"][0]
    R = np.array(naive["accuracy_matrix"]["matrix"], dtype=float)
    assert R.shape == (2, 2)
    assert naive["final_average_accuracy"] == pytest.approx(R[-1].mean())
    assert naive["average_forgetting"] == pytest.approx(max(R[0, 0] - R[1, 0], R[0, 0] - R[1, 0]))
    assert naive["bwt"] == pytest.approx(R[1, 0] - R[0, 0])
    assert data["runs"][1]["last_metrics"]["Stored_Exemplars_Exp/train_phase/train_stream"] > 0
    joint = data["runs"][2]
    assert np.array(joint["accuracy_matrix"]["matrix"]).shape == (1, 2)
    assert joint["bwt"] is None
    with open(report / "metrics.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["strategy"] for r in rows] == ["Naive", "Cumul", "JointTraining"]
    assert {r["stream"] for r in rows} == {"split_digits"}
    assert float(rows[0]["final_average_accuracy"]) == pytest.approx(
        naive["final_average_accuracy"], rel=1e-5)
    pngs = sorted(p.name for p in report.glob("*.png"))
    assert pngs == ["accuracy_matrix_Cumul.png", "accuracy_matrix_JointTraining.png",
                    "accuracy_matrix_Naive.png", "average_accuracy.png"]
    assert all((report / p).stat().st_size > 5000 for p in pngs)
    run_dir = report / "runs" / "Naive_seed0"
    assert (run_dir / "csv" / "eval_results.csv").exists()
    assert (run_dir / "log.txt").read_text().count("Start of training experience") == 2
    assert any((run_dir / "tensorboard").iterdir())


def test_default_run_uses_default_strategies(tmp_path, monkeypatch, capsys):
    from skcl import default_run
    from skcl.strategies import JointTraining, Naive

    small = {"module__hidden_sizes": (16,), "lr": 0.1, "max_epochs": 1}
    monkeypatch.setattr(default_run, "default_strategies", lambda random_state=0: [
        ("Naive", Naive(**small, random_state=random_state)),
        ("Joint", JointTraining(**small, random_state=random_state))])
    monkeypatch.chdir(tmp_path)
    assert cli.main(["run"]) == 0
    out = capsys.readouterr().out
    # a class-incremental and a domain-incremental stream, settings in the header (once)
    assert "split_digits(n_experiences=5, random_state=0) [class-incremental]" in out
    assert "permuted_digits(n_experiences=5, random_state=0) [domain-incremental]" in out
    assert out.count("skcl run: skcl run (default)") == 1
    report = tmp_path / "skcl-report"
    assert f"report written to {report}" in out
    data = json.loads((report / "report.json").read_text())
    assert [(r["stream"], r["strategy"]) for r in data["runs"]] == [
        ("split_digits", "Naive"), ("split_digits", "Joint"),
        ("permuted_digits", "Naive"), ("permuted_digits", "Joint")]
    assert [r["scenario"] for r in data["runs"][::2]] == ["class-incremental",
                                                          "domain-incremental"]
    assert np.array(data["runs"][0]["accuracy_matrix"]["matrix"]).shape == (5, 5)
    assert (report / "accuracy_matrix_split_digits_Joint.png").exists()
    assert (report / "accuracy_matrix_permuted_digits_Naive.png").exists()
    assert (report / "report.html").exists()


@pytest.mark.parametrize("edit, message", [
    (('class = "Naive"', 'class = "Naiv"'), r"line 14.*unknown strategy 'Naiv'.*'Naive'"),
    (("lr = 0.1\nmax_epochs = 1\nmodule__hidden_sizes = [16]\n\n[[strategies]]\n"
      'class = "Cumulative"', "lrr = 0.1\nmax_epochs = 1\nmodule__hidden_sizes = [16]\n\n"
      '[[strategies]]\nclass = "Cumulative"'), r"line 15.*unknown parameter 'lrr'.*'lr'"),
    (("module__hidden_sizes = [16]", "module__hidden_size = [16]"),
     r"line 17.*'module__hidden_size'.*'hidden_sizes'"),
    (("n_experiences = 2", "n_experience = 2"), r"line 11.*no argument 'n_experience'"),
    (('builder = "split_digits"', 'builder = "split_digit"'), r"'split_digits'"),
    (('metrics = ["accuracy"', 'metrics = ["acuracy"'), r"unknown metric 'acuracy'.*'accuracy'"),
    (("[experiment]", "[experimnt]"), r"line 2.*'experimnt'.*'experiment'"),
    (("max_epochs = 1\nmodule", "max_epochs = 1 =\nmodule"), r"malformed TOML.*line 16"),
])
def test_bad_files_fail_before_training(tmp_path, edit, message, capsys):
    good = TINY.format(out=(tmp_path / "report").as_posix(), loggers="[]")
    assert edit[0] in good
    path = _write(tmp_path, good.replace(edit[0], edit[1], 1))
    with pytest.raises(ExperimentError, match=message):
        load_experiment(path)
    assert cli.main(["run", str(path)]) == 2
    assert "error" in capsys.readouterr().err
    assert not (tmp_path / "report").exists()  # nothing trained, nothing written


def test_nested_plugin_keys_and_dotted_classes(tmp_path):
    text = TINY.format(out=(tmp_path / "r").as_posix(), loggers="[]") + """
[[strategies]]
class = "Naive"
name = "NaiveES"
optimizer = "torch.optim.Adam"
lr = 0.01
max_epochs = 1
plugins = [{ class = "EarlyStoppingPlugin", name = "es", patience = 1, val_stream_name = "test" }]
plugins__es__patience = 3
"""
    exp = load_experiment(_write(tmp_path, text))
    est = exp.strategies[-1].build(seed=0)
    assert est.get_params()["plugins__es__patience"] == 3
    import torch
    assert est.optimizer is torch.optim.Adam
    bad = text.replace("plugins__es__patience", "plugins__es__patiense")
    with pytest.raises(ExperimentError, match="plugins__es__patience"):
        load_experiment(_write(tmp_path, bad))


def _matrices(results):
    return [(r["strategy"], r["seed"], r["accuracy_matrix"]["matrix"]) for r in results]


def test_n_jobs_and_dask_equal_serial(tmp_path):
    exp = load_experiment(_write(tmp_path, loggers="[]"))
    exp.strategies = exp.strategies[:1]
    exp.seeds = [0, 1]
    serial = run_experiment(exp, n_jobs=1, progress=None)
    parallel = run_experiment(exp, n_jobs=2, progress=None)
    assert _matrices(parallel) == _matrices(serial)
    assert len({str(m) for _, _, m in _matrices(serial)}) == 2  # the seeds differ

    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        on_dask = run_experiment(exp, scheduler=cluster.scheduler_address, progress=None)
    assert _matrices(on_dask) == _matrices(serial)


def test_version(capsys):
    import skcl

    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"skcl {skcl.__version__}"


def test_several_streams_from_a_file(tmp_path, capsys):
    text = TINY.format(out=(tmp_path / "report").as_posix(), loggers="[]").replace(
        '[stream]\nbuilder = "split_digits"\nn_experiences = 2\n',
        '[[streams]]\nname = "classes"\nbuilder = "split_digits"\nn_experiences = 2\n\n'
        '[[streams]]\nname = "domains"\nbuilder = "permuted_digits"\nn_experiences = 2\n'
        'random_state = 3\n')
    assert "[[streams]]" in text
    assert cli.main(["run", str(_write(tmp_path, text)), "-q"]) == 0
    out = capsys.readouterr().out
    assert "stream domains: permuted_digits(n_experiences=2, random_state=3)" in out
    data = json.loads((tmp_path / "report" / "report.json").read_text())
    assert list(data["summary"]) == ["classes", "domains"]
    assert [r["scenario"] for r in data["runs"][::3]] == ["class-incremental",
                                                          "domain-incremental"]
    bad = text.replace("random_state = 3", 'random_state = "three"')
    with pytest.raises(ExperimentError, match=r"line 18.*random_state.*\"seed\""):
        load_experiment(_write(tmp_path, bad))
