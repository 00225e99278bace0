"""Experiment files are data: class references come from an allow-list unless trusted."""

import sys

import pytest

from skcl import cli
from skcl.experiment import ExperimentError, load_experiment

BASE = """
[experiment]
output = "{out}"
metrics = ["accuracy"]

[stream]
builder = "split_digits"
n_experiences = 2

[[strategies]]
class = "Naive"
max_epochs = 1
{extra}
"""


def _file(tmp_path, extra, trust=""):
    path = tmp_path / "exp.toml"
    path.write_text(trust + BASE.format(out=(tmp_path / "report").as_posix(), extra=extra))
    return path


def test_os_system_is_rejected_and_nothing_runs(tmp_path, capsys):
    marker = tmp_path / "pwned"
    path = _file(tmp_path, f'module = "os.system"\nmodule__command = "touch {marker}"')
    with pytest.raises(ExperimentError, match=r"line 13.*'module' = 'os.system' is not allowed"):
        load_experiment(path)
    assert cli.main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert "torch.nn" in err and "--trust os." in err
    assert not marker.exists() and not (tmp_path / "report").exists()


def _evil_module(tmp_path, monkeypatch, name="skcl_test_evilmod"):
    (tmp_path / f"{name}.py").write_text(
        "import pathlib, torch\n"
        f"pathlib.Path({str(tmp_path / 'imported')!r}).write_text('yes')\n"
        "class Net(torch.nn.Module):\n"
        "    def __init__(self, n_classes=10):\n"
        "        super().__init__()\n"
        "        self.lin = torch.nn.LazyLinear(n_classes)\n"
        "    def forward(self, x, task_labels=None):\n"
        "        return self.lin(x)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return name


def test_a_local_module_file_is_not_imported(tmp_path, monkeypatch):
    name = _evil_module(tmp_path, monkeypatch)
    with pytest.raises(ExperimentError, match=f"'{name}.Net' is not allowed"):
        load_experiment(_file(tmp_path, f'module = "{name}.Net"'))
    assert not (tmp_path / "imported").exists() and name not in sys.modules


@pytest.mark.parametrize("how", ["flag", "table"])
def test_trust_opts_in(tmp_path, monkeypatch, how):
    name = _evil_module(tmp_path, monkeypatch)
    extra = f'module = "{name}.Net"'
    if how == "flag":
        exp = load_experiment(_file(tmp_path, extra), trust=[f"{name}."])
    else:
        exp = load_experiment(_file(tmp_path, extra, trust=f'[trust]\nmodules = ["{name}."]\n'))
    assert (tmp_path / "imported").exists()
    assert exp.strategies[0].build(0).module.__name__ == "Net"
    # a trusted prefix does not trust its look-alikes
    with pytest.raises(ExperimentError, match="is not allowed"):
        load_experiment(_file(tmp_path, f'module = "{name}x.Net"'), trust=[name])


def test_cli_trust_flag(tmp_path, monkeypatch):
    name = _evil_module(tmp_path, monkeypatch)
    path = _file(tmp_path, f'module = "{name}.Net"')
    assert cli.main(["run", str(path), "-q"]) == 2
    assert cli.main(["run", str(path), "-q", "--trust", f"{name}."]) == 0


@pytest.mark.parametrize("extra, message", [
    ('criterion = "torch.nn.functional.cross_entropy"', "is not allowed"),
    ('optimizer = "torch.optim.Adamm"', r"torch.optim has no class 'Adamm'.*'Adam'"),
    ('optimizer = "builtins.eval"', "is not allowed"),
    ('plugins = [{ class = "LRSchedulerPlugin", scheduler = "subprocess.Popen" }]',
     r"'scheduler' = 'subprocess.Popen' is not allowed"),
    ('module__activation = "shutil.rmtree"', "'module__activation' = 'shutil.rmtree' is not"),
])
def test_other_references_are_checked(tmp_path, extra, message):
    with pytest.raises(ExperimentError, match=message):
        load_experiment(_file(tmp_path, extra))


def test_allowed_references(tmp_path):
    import torch

    from skcl.models import MLP

    exp = load_experiment(_file(tmp_path, 'optimizer = "Adam"\ncriterion = '
                                '"torch.nn.CrossEntropyLoss"\nmodule = "skcl.models.MLP"'))
    est = exp.strategies[0].build(0)
    assert est.optimizer is torch.optim.Adam and est.module is MLP
    assert est.criterion is torch.nn.CrossEntropyLoss
