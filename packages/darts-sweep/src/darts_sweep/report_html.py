"""The sweep report as one self-contained HTML file: inline CSS, plots embedded as PNG data URIs.

No external CSS, JavaScript, fonts or images: the file can be opened offline or sent by mail.
Every string from the study (parameters, reasons, names) is HTML-escaped.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from darts_sweep.report import SweepReport, TrialRow

_CSS = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; font-size: 0.9em; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.FAIL { color: #a00; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
"""


def render_html(report: SweepReport, out_dir: Path) -> str:
    """The report page; the PNG files of ``report.plots`` are read from ``out_dir`` and embedded."""
    title = f"Sweep {report.sweep_id}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>Storage {_e(report.storage)}; objective {_e(report.metric)} "
        f"({_e(', '.join(report.directions))}).",
        " Trials: " + escape(", ".join(f"{k} {v}" for k, v in sorted(report.state_counts.items()))) + ".</p>",
    ]
    parts += _best(report)
    parts += _section(
        "Trials",
        ["trial", "state", "value(s)", "mean ± std", "runs", "parameters", "reason"],
        (_trial_cells(row) for row in report.trials),
    )
    fold_rows = (
        [
            str(t.number),
            str(f.fold),
            _num(f.mean),
            ", ".join(_num(v) for v in f.values),
            ", ".join(_opt(c) for c in f.positives),
        ]
        for t in report.best_folds
        for f in t.folds
    )
    parts += _section(
        "Per-fold values of the best trials", ["trial", "fold", "mean", "runs", "positives"], fold_rows
    )
    parts += _section(
        "Failed and unstable trials",
        ["trial", "reason"],
        ([str(row.number), row.fail_reason or "no reason recorded"] for row in report.failed),
    )
    retrain_rows = (
        [str(r.trial), split, name, f"{stat.mean:.4f} ± {stat.std:.4f}", str(stat.n)]
        for r in report.retrains
        for split, stats in r.metrics.items()
        for name, stat in stats.items()
    )
    parts += _section(
        "Retrained trials (mean ± std over seeds)",
        ["trial", "split", "metric", "mean ± std", "seeds"],
        retrain_rows,
    )
    if report.importances:
        parts += _section(
            "Parameter importances",
            ["parameter", "importance"],
            ([k, f"{v:.3f}"] for k, v in report.importances.items()),
        )
    elif report.importance_note:
        parts.append(f"<h2>Parameter importances</h2><p>{escape(report.importance_note)}</p>")
    if report.plots:
        parts.append("<h2>Plots</h2>")
        for name in report.plots:
            parts.append(f'<figure><img alt="{escape(name)}" src="{png_data_uri(out_dir / name)}">')
            parts.append(f"<figcaption>{escape(name)}</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def png_data_uri(path: Path) -> str:
    """``data:image/png;base64,…`` of a PNG file."""
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _best(report: SweepReport) -> list[str]:
    if report.pareto_trials:
        return [f"<h2>Pareto front</h2><p>Trials {escape(', '.join(map(str, report.pareto_trials)))}.</p>"]
    if report.best is None:
        return ["<h2>Best trial</h2><p>No complete trial yet.</p>"]
    best = report.best
    rows = [[k, _short(v)] for k, v in best.params.items()]
    rows += [[k, f"{_short(v)} (fixed)"] for k, v in best.fixed_params.items()]
    head = f"<h2>Best trial: {best.number} = {escape(_pm(best))}</h2>"
    return [head, *_table(["parameter", "value"], rows)]


def _trial_cells(row: TrialRow) -> list[str]:
    params = ", ".join(f"{k}={_short(v)}" for k, v in row.params.items())
    values = ", ".join(_num(v) for v in row.values or [])
    return [str(row.number), row.state, values, _pm(row), str(row.n_runs), params, row.fail_reason or ""]


def _section(title: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    body = list(rows)
    if not body:
        return []
    return [f"<h2>{escape(title)}</h2>", *_table(header, body)]


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    out = ["<table><thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr></thead><tbody>"]
    for row in rows:
        cells = "".join(f"<td{_cls(c)}>{escape(c)}</td>" for c in row)
        out.append(f"<tr>{cells}</tr>")
    out.append("</tbody></table>")
    return out


def _cls(cell: str) -> str:
    if cell == "FAIL":
        return ' class="FAIL"'
    try:
        float(cell)
    except ValueError:
        return ""
    return ' class="num"'


def _e(value: Any) -> str:
    return escape("-" if value is None else str(value))


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _opt(value: int | None) -> str:
    return "-" if value is None else str(value)


def _pm(row: TrialRow) -> str:
    return "-" if row.mean is None else f"{row.mean:.4f} ± {row.std or 0.0:.4f}"


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


__all__ = ["png_data_uri", "render_html"]
