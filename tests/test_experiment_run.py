"""The runner: thread setting restored, one warm-up per process, progress lines in every mode,
the stream's class order fixed across seeds, and the HTML report."""

import base64
import re

import pytest
import torch

from skcl.experiment import (
    TIME_COVERS,
    Experiment,
    StrategySpec,
    StreamSpec,
    format_table,
    run_experiment,
    run_one,
    summarize,
    write_report,
)
from skcl.experiment import run as run_module


def _spec(label="Naive", **params):
    return StrategySpec(label, "Naive", {"max_epochs": 1, "module__hidden_sizes": (8,), **params})


def _exp(tmp_path, seeds=(0, 1), streams=None, **stream_args):
    return Experiment(name="t", streams=streams or [StreamSpec("split_digits",
                                                               {"n_experiences": 2,
                                                                **stream_args})],
                      strategies=[_spec()], seeds=list(seeds), metrics=["accuracy"],
                      output=str(tmp_path / "out"))


def test_run_one_restores_the_callers_thread_setting(tmp_path):
    before = torch.get_num_threads()
    target = 2 if before != 2 else 3
    torch.set_num_threads(target)
    try:
        run_one(_spec(), StreamSpec("split_digits", {"n_experiences": 2}), 0)
        assert torch.get_num_threads() == target
        with pytest.raises(Exception):  # noqa: B017 - any failure inside a run
            run_one(_spec(module__hidden_sizes="not sizes"),
                    StreamSpec("split_digits", {"n_experiences": 2}), 0)
        assert torch.get_num_threads() == target
    finally:
        torch.set_num_threads(before)


def test_one_untimed_warm_up_per_process(tmp_path, monkeypatch):
    calls = []
    real = run_module._warm_up

    def counting(train, test):
        calls.append(run_module._WARM)
        real(train, test)

    monkeypatch.setattr(run_module, "_warm_up", counting)
    monkeypatch.setattr(run_module, "_WARM", False)
    run_experiment(_exp(tmp_path), progress=None)
    assert calls == [False, True]  # warmed once, then skipped
    assert "untimed warm-up" in TIME_COVERS


@pytest.mark.parametrize("mode", ["serial", "n_jobs", "dask"])
def test_a_progress_line_per_run_in_every_mode(tmp_path, mode):
    lines = []
    exp = _exp(tmp_path)
    if mode == "dask":
        distributed = pytest.importorskip("distributed")
        with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                      protocol="tcp", host="127.0.0.1",
                                      dashboard_address=None) as cluster:
            run_experiment(exp, scheduler=cluster.scheduler_address, progress=lines.append)
    else:
        run_experiment(exp, n_jobs=1 if mode == "serial" else 2, progress=lines.append)
    runs = [ln for ln in lines if re.match(r"\[\d/2\] Naive \(seed \d\): final average", ln)]
    assert len(runs) == 2, lines
    assert {ln[:5] for ln in runs} == {"[1/2]", "[2/2]"}


def test_class_order_fixed_across_seeds_unless_asked(tmp_path):
    fixed = run_experiment(_exp(tmp_path, n_experiences=5), progress=None)
    assert fixed[0]["experience_classes"] == fixed[1]["experience_classes"]
    assert summarize(fixed)["split_digits"]["Naive"]["same_class_order"] is True
    per_seed = run_experiment(_exp(tmp_path, n_experiences=5, random_state="seed"),
                              progress=None)
    assert per_seed[0]["experience_classes"] != per_seed[1]["experience_classes"]
    entry = summarize(per_seed)["split_digits"]["Naive"]
    assert entry["same_class_order"] is False
    assert "Class order differs across the 2 seeds" in format_table(summarize(per_seed))


def test_html_report_is_self_contained(tmp_path):
    streams = [StreamSpec("split_digits", {"n_experiences": 2}),
               StreamSpec("permuted_digits", {"n_experiences": 2})]
    exp = _exp(tmp_path, streams=streams)
    exp.strategies.append(StrategySpec("EWC", "EWC", {"max_epochs": 1}))
    results = run_experiment(exp, progress=None)
    folder = write_report(exp, results, tmp_path / "out")
    page = (folder / "report.html").read_text()
    pngs = sorted(folder.glob("*.png"))
    assert len(pngs) == 2 * (1 + 2)  # per stream: ACC curves + one matrix per strategy
    embedded = re.findall(r"src='data:image/png;base64,([^']+)'", page)
    assert len(embedded) == len(pngs)
    assert {base64.b64decode(e) for e in embedded} == {p.read_bytes() for p in pngs}
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", page)  # nothing from the network
    for text in ("split_digits", "permuted_digits", "random_state=0", "2: [0, 1]",
                 "class-incremental", "domain-incremental", "van de Ven", TIME_COVERS):
        assert text in page, text
    table = format_table(summarize(results))
    assert table.count("van de Ven") == 1  # the class-incremental stream only
    assert "2 seeds" in table
