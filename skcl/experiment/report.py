"""What a run leaves behind: the terminal table, report.json, metrics.csv, PNG plots, report.html.

The plots are :mod:`skcl.evaluation`'s own (:func:`~skcl.evaluation.plot_accuracy_matrix`
with hatched untrained cells, :func:`~skcl.evaluation.plot_average_accuracy` with the
spread over seeds, :func:`~skcl.evaluation.average_over_seeds`); report.html embeds
them (base64), so it opens from anywhere and loads nothing from the network.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skcl.experiment.run import TIME_COVERS, prepare_output
from skcl.experiment.spec import Experiment, jsonable, safe_name

__all__ = ["summarize", "format_table", "notes_for", "write_report", "render_html",
           "REGULARIZATION_NOTE"]

_SUMMARY = ("final_average_accuracy", "average_forgetting", "bwt", "train_time_s")
_REGULARIZERS = ("EWC", "SynapticIntelligence", "LwF", "LFL")
#: Why regularisation strategies match Naive on class-incremental streams (one line).
REGULARIZATION_NOTE = (
    "EWC, SI, LwF and LFL stay near Naive on class-incremental streams: with one head over "
    "all classes and no task labels, regularising weights or outputs cannot stop the newest "
    "classes' outputs from winning (van de Ven & Tolias 2019, \"Three scenarios for continual "
    "learning\", arXiv:1904.07734); they help on domain- and task-incremental streams.")


def _group(results: Sequence[dict]) -> dict[str, dict[str, list[dict]]]:
    out: dict[str, dict[str, list[dict]]] = {}
    for r in results:
        out.setdefault(r.get("stream", "stream"), {}).setdefault(r["strategy"], []).append(r)
    return out


def _seed_average(runs: Sequence[dict]):
    from skcl.evaluation import AccuracyMatrix, average_over_seeds

    mats = [AccuracyMatrix.from_dict(r["accuracy_matrix"]) for r in runs]
    orders = [r.get("experience_classes") for r in runs]
    return average_over_seeds(mats, experience_classes=None if None in orders else orders)


def summarize(results: Sequence[dict]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per stream, per strategy: mean and std over seeds of the summary metrics, and the
    mean (and std) accuracy matrix."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for stream, strategies in _group(results).items():
        for label, runs in strategies.items():
            avg = _seed_average(runs)
            entry: dict[str, Any] = {"class": runs[0]["class"], "n_seeds": len(runs),
                                     "incremental": runs[0]["incremental"],
                                     "scenario": runs[0].get("scenario", "")}
            for key in _SUMMARY:
                vals = np.array([np.nan if r[key] is None else r[key] for r in runs], dtype=float)
                finite = vals[np.isfinite(vals)]
                entry[key] = float(np.mean(finite)) if len(finite) else None
                entry[key + "_std"] = float(np.std(finite)) if len(finite) > 1 else None
            entry["accuracy_matrix"] = avg.mean.to_dict()
            entry["accuracy_matrix_std"] = avg.std.tolist()
            entry["same_class_order"] = avg.same_order
            entry["seed_note"] = avg.note
            out.setdefault(stream, {})[label] = entry
    return out


def notes_for(summary: dict[str, dict[str, Any]]) -> list[str]:
    """The one-line notes a stream's table needs (regularisation on class-incremental streams,
    negative forgetting, seeds)."""
    notes = []
    entries = list(summary.values())
    scenario = entries[0].get("scenario", "") if entries else ""
    if scenario == "class-incremental" and any(e["class"] in _REGULARIZERS for e in entries):
        notes.append(REGULARIZATION_NOTE)
    negative = [(k, e["average_forgetting"]) for k, e in summary.items()
                if e["average_forgetting"] is not None and e["average_forgetting"] < 0]
    if negative:
        names = ", ".join(f"{k} {v:.3f}" for k, v in negative)
        notes.append(f"Negative forgetting ({names}): accuracy on earlier experiences rose after "
                     "later training (positive backward transfer); forgetting is the max-based "
                     "measure of Chaudhry et al. 2018, so it can be below 0.")
    seed_notes = {e["seed_note"] for e in entries if e.get("seed_note")}
    notes.extend(sorted(seed_notes))
    return notes


def _scenario_title(stream: str, summary: dict[str, dict[str, Any]]) -> str:
    entries = list(summary.values())
    scenario = entries[0].get("scenario", "") if entries else ""
    n = max((e["n_seeds"] for e in entries), default=1)
    return f"stream {stream} ({scenario}; {n} seed{'s' if n > 1 else ''})"


def format_table(summary: dict) -> str:
    """The terminal table: per stream, one line per strategy, then the stream's notes."""

    def f(v, fmt):
        return "n/a" if v is None else format(v, fmt)

    blocks = []
    for stream, entries in summary.items():
        head = (f"{'strategy':<22} {'final avg acc':>13} {'avg forgetting':>15} {'BWT':>8} "
                f"{'train time (s)':>15}")
        lines = [_scenario_title(stream, entries), head, "-" * len(head)]
        for label, s in entries.items():
            acc = f(s["final_average_accuracy"], ".3f")
            if s.get("final_average_accuracy_std") is not None:
                acc += f"±{s['final_average_accuracy_std']:.3f}"
            lines.append(f"{label:<22} {acc:>13} {f(s['average_forgetting'], '.3f'):>15} "
                         f"{f(s['bwt'], '.3f'):>8} {f(s['train_time_s'], '.2f'):>15}")
        lines += [f"note: {n}" for n in notes_for(entries)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _plots(results: Sequence[dict], folder: Path, several: bool, title: str) -> dict[str, list]:
    """Write the PNGs; return, per stream, [(caption, file name, png bytes)]."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skcl.evaluation import AccuracyMatrix, plot_accuracy_matrix, plot_average_accuracy

    out: dict[str, list] = {}
    for stream, strategies in _group(results).items():
        prefix = f"{safe_name(stream)}_" if several else ""
        images = []

        def save(fig, name, caption, _images=images):
            fig.tight_layout()
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=110)
            plt.close(fig)
            (folder / name).write_bytes(buf.getvalue())
            _images.append((caption, name, buf.getvalue()))

        curves = {label: [AccuracyMatrix.from_dict(r["accuracy_matrix"]) for r in runs]
                  for label, runs in strategies.items()}
        ax = plot_average_accuracy(curves, title=f"{title}: {stream}, average accuracy")
        ax.figure.set_size_inches(9, 5)
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
        save(ax.figure, f"average_accuracy{'_' + safe_name(stream) if several else ''}.png",
             "Average accuracy after each experience")
        for label, runs in strategies.items():
            avg = _seed_average(runs)
            ax = plot_accuracy_matrix(avg if avg.n_seeds > 1 else avg.mean,
                                      title=f"{label} on {stream}: accuracy matrix")
            if not runs[0]["incremental"]:
                ax.set_yticks([0])
                ax.set_yticklabels(["all (joint)"])
                ax.set_ylabel("after training")
            save(ax.figure, f"accuracy_matrix_{prefix}{safe_name(label)}.png",
                 f"{label}: accuracy matrix")
        out[stream] = images
    return out


def _html_table(entries: dict[str, dict[str, Any]]) -> str:
    def cell(v, fmt, std=None):
        text = "n/a" if v is None else format(v, fmt)
        return text + (f" ± {std:.3f}" if std is not None else "")

    rows = ["<tr><th>strategy</th><th>class</th><th>final avg acc</th><th>avg forgetting</th>"
            "<th>BWT</th><th>train time (s)</th></tr>"]
    for label, s in entries.items():
        rows.append(
            f"<tr><td>{html.escape(label)}</td><td>{html.escape(s['class'])}</td>"
            f"<td>{cell(s['final_average_accuracy'], '.3f', s['final_average_accuracy_std'])}</td>"
            f"<td>{cell(s['average_forgetting'], '.3f')}</td><td>{cell(s['bwt'], '.3f')}</td>"
            f"<td>{cell(s['train_time_s'], '.2f')}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


_CSS = ("body{font-family:sans-serif;margin:2em;max-width:1200px;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 8px;"
        "text-align:right}td:first-child,th:first-child{text-align:left}th{background:#eef}"
        ".note{color:#444;font-size:90%}figure{display:inline-block;margin:.5em}"
        "img{max-width:560px;border:1px solid #ddd}pre{background:#f6f6f6;padding:.5em}")


def render_html(exp: Experiment, summary: dict, images: dict[str, list]) -> str:
    """The self-contained report page (settings, tables, notes, plots as base64 PNG)."""
    settings = exp.to_dict()
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(exp.name)}"
             f"</title><style>{_CSS}</style></head><body><h1>{html.escape(exp.name)}</h1>",
             "<h2>Settings</h2><table>"]
    for s in settings["streams"]:
        args = ", ".join(f"{k}={v}" for k, v in s.items() if k not in ("label", "builder"))
        parts.append(f"<tr><th>stream {html.escape(s['label'])}</th>"
                     f"<td>{html.escape(s['builder'])}({html.escape(args)})</td></tr>")
    seeds = settings["seeds"]
    parts.append(f"<tr><th>seeds</th><td>{len(seeds)}: {html.escape(str(seeds))}</td></tr>"
                 f"<tr><th>metrics</th><td>{html.escape(', '.join(settings['metrics']))}"
                 f"</td></tr></table><p class='note'>{html.escape(TIME_COVERS)}</p>"
                 "<h3>Strategies</h3><pre>")
    for s in settings["strategies"]:
        parts.append(html.escape(f"{s['name']}: {s['class']}({json.dumps(s['params'])})") + "\n")
    parts.append("</pre>")
    for stream, entries in summary.items():
        parts.append(f"<h2>{html.escape(_scenario_title(stream, entries))}</h2>")
        parts.append(_html_table(entries))
        parts += [f"<p class='note'>{html.escape(n)}</p>" for n in notes_for(entries)]
        for caption, name, data in images.get(stream, []):
            b64 = base64.b64encode(data).decode("ascii")
            parts.append(f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,"
                         f"{b64}'><figcaption>{html.escape(caption)} ({html.escape(name)})"
                         "</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(exp: Experiment, results: Sequence[dict], folder: str | Path,
                 prepare: bool = False) -> Path:
    """Write report.json, metrics.csv, the PNG plots and report.html into ``folder``.

    Call :func:`~skcl.experiment.prepare_output` on the folder *before*
    training (``skcl run`` does), so an unusable folder fails first and an
    earlier report is removed rather than mixed; ``prepare=True`` does it
    here instead (it also removes the loggers' ``runs/`` folder).
    """
    folder = prepare_output(folder) if prepare else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    summary = summarize(results)
    report = {"experiment": exp.to_dict(), "time_covers": TIME_COVERS, "summary": summary,
              "notes": {s: notes_for(e) for s, e in summary.items()},
              "runs": jsonable(list(results))}
    (folder / "report.json").write_text(json.dumps(jsonable(report), indent=2))
    with open(folder / "metrics.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["stream", "strategy", "class", "seed", *_SUMMARY])
        for r in results:
            writer.writerow([r.get("stream", ""), r["strategy"], r["class"], r["seed"],
                             *["" if r[k] is None or not np.isfinite(r[k]) else f"{r[k]:.6g}"
                               for k in _SUMMARY]])
    images = _plots(results, folder, len(summary) > 1, exp.name)
    (folder / "report.html").write_text(render_html(exp, summary, images), encoding="utf-8")
    return folder
