"""sweep-report additions: per-fold tables, failed / unstable trials, the Pareto front, report.html."""

from __future__ import annotations

import base64
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import optuna
import pytest

from darts_sweep import optuna_sweep_smp, sweep_report
from darts_sweep.report import render_report
from darts_sweep.retrain_summary import MetricStat, RetrainSummary, SeedResult, metric_stats
from darts_test_support.sweep_processes import make_config
from darts_test_support.sweeps import write_sweep_file

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NASTY = "<script>alert('x')</script> & \"quoted\""


class _Page(HTMLParser):
    """Collects the tags, image sources and text of a page, and fails on unbalanced tables."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.images: dict[str, str] = {}
        self.links: list[str] = []
        self.text: list[str] = []
        self.open_tables = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if tag == "img":
            self.images[str(values["alt"])] = str(values["src"])
        if tag in ("link", "script") or (tag != "img" and any(k in ("src", "href") for k in values)):
            self.links.append(tag)
        self.open_tables += tag == "table"

    def handle_endtag(self, tag: str) -> None:
        self.open_tables -= tag == "table"

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def fake_sweep(tmp_path: Path) -> str:
    """A grid of four trials of the fake training (two folds, two seeds): two complete, two fail."""
    parameters = {
        "learning_rate": {"values": [1e-3, 1e-2]},
        "model_encoder": {"values": ["resnet18", "fail"]},
    }
    sweep = write_sweep_file(tmp_path / "s.yaml", parameters, method="grid")
    config = make_config(tmp_path, sweep, tmp_path, n_trials=4, sweep_id="html")
    outcome = optuna_sweep_smp(config)
    study = optuna.load_study(study_name="html", storage=outcome.storage)
    study.add_trial(
        optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, user_attrs={"fail_reason": NASTY})
    )
    return outcome.sweep_id


def write_retrain_summary(artifacts: Path, sweep_id: str) -> RetrainSummary:
    """A retrain summary of two seeds, where retrain-best writes it."""
    seeds = [
        SeedResult(
            seed=seed,
            run_dir=f"retrain-seed-{seed}",
            checkpoint="c.ckpt",
            model_file="m.ckpt",
            eval_dir="eval",
            metrics={"test": {"JaccardIndex": iou, "Recall": None}},
        )
        for seed, iou in ((42, 0.25), (21, 0.75))
    ]
    summary = RetrainSummary(
        sweep_id=sweep_id, trial=2, params={}, folder="x", seeds=seeds, metrics=metric_stats(seeds)
    )
    path = artifacts / sweep_id / "retrain-best" / "trial-0002" / "summary.json"
    path.parent.mkdir(parents=True)
    path.write_text(summary.model_dump_json())
    return summary


def test_report_shows_folds_failures_and_writes_a_self_contained_html(tmp_path: Path) -> None:
    sweep_id = fake_sweep(tmp_path)
    retrain = write_retrain_summary(tmp_path / "artifacts", sweep_id)
    assert retrain.metrics["test"]["JaccardIndex"] == MetricStat(mean=0.5, std=0.25, n=2)
    assert "Recall" not in retrain.metrics["test"]  # defined by no seed
    out = tmp_path / "report"
    report = sweep_report(None, sweep_id, out, artifact_dir=tmp_path / "artifacts", html=True)
    assert report.retrains == [retrain]
    complete = sorted((r for r in report.trials if r.state == "COMPLETE"), key=lambda r: -(r.mean or 0))
    assert len(complete) == 2 and report.best is not None and report.direction == "maximize"
    # per-fold values of the best trials, best first: each fold's mean is the mean of its two runs
    assert [t.number for t in report.best_folds] == [r.number for r in complete]
    study = optuna.load_study(study_name=sweep_id, storage=report.storage)
    for shown in report.best_folds:
        runs = study.trials[shown.number].user_attrs["runs"]
        assert [f.fold for f in shown.folds] == [0, 1] and shown.n_defined_folds == 2
        for fold in shown.folds:
            scores = [r["score"] for r in runs if r["fold"] == fold.fold]
            assert fold.values == scores and fold.mean == pytest.approx(sum(scores) / 2)
    assert report.failed and all(row.state == "FAIL" for row in report.failed)
    assert NASTY in {row.fail_reason for row in report.failed}
    text = render_report(report)
    assert (
        "per-fold values of the best trials" in text and f"trial {report.failed[-1].number}: {NASTY}" in text
    )

    html_file = out / "report.html"
    assert report.html_file == "report.html" and html_file.is_file()
    raw = html_file.read_text(encoding="utf-8")
    assert (
        NASTY not in raw
        and "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in raw
    )
    page = parse(html_file)
    assert page.open_tables == 0 and page.links == [] and "script" not in page.tags
    assert set(page.images) == set(report.plots) and len(report.plots) >= 2
    for name, src in page.images.items():
        prefix = "data:image/png;base64,"
        assert src.startswith(prefix)
        data = base64.b64decode(src.removeprefix(prefix), validate=True)
        assert data[:8] == PNG_MAGIC and data == (out / name).read_bytes()
    words = " ".join(page.text)
    assert "Per-fold values of the best trials" in words and "Failed and unstable trials" in words
    assert "Retrained trials (mean ± std over seeds)" in words and "0.5000 ± 0.2500" in words
    assert NASTY in words  # shown as text, not markup


def pareto_study(artifacts: Path) -> str:
    """A two-objective study written directly with Optuna, laid out like a sweep's default storage."""
    db = artifacts / "pareto" / "sweep.db"
    db.parent.mkdir(parents=True)
    study = optuna.create_study(
        storage=f"sqlite:///{db}", study_name="pareto", directions=["maximize", "minimize"]
    )
    distributions = {"learning_rate": optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True)}
    points = [(0.50, 0.4), (0.70, 2.0), (0.40, 3.0), (0.60, 0.5)]  # trial 2 is dominated by 0, 1 and 3
    for i, values in enumerate(points):
        runs = [{"fold": f, "random": 0, "score": values[0] + 0.01 * f} for f in range(2)]
        study.add_trial(
            optuna.trial.create_trial(
                values=list(values),
                params={"learning_rate": 10.0 ** -(i + 2)},
                distributions=distributions,
                user_attrs={"runs": runs},
            )
        )
    study.add_trial(
        optuna.trial.create_trial(
            state=optuna.trial.TrialState.FAIL,
            user_attrs={"unstable_reason": "fold 1: JaccardIndex stuck at 0"},
        )
    )
    return "pareto"


def test_multi_objective_report_shows_the_pareto_front(tmp_path: Path) -> None:
    artifacts = tmp_path / "artifacts"
    sweep_id = pareto_study(artifacts)
    out = tmp_path / "report"
    report = sweep_report(None, sweep_id, out, artifact_dir=artifacts, html=True)
    assert report.direction == "multi-objective" and report.directions == ["maximize", "minimize"]
    assert report.best is None and report.pareto_trials == [0, 1, 3]
    assert [t.number for t in report.best_folds] == [0, 1, 3]
    assert report.best_folds[1].folds[1].mean == pytest.approx(0.71)
    assert report.trials[1].values == [0.70, 2.0]
    assert report.plots == ["pareto_front.png"] and (out / "pareto_front.png").read_bytes()[:8] == PNG_MAGIC
    assert "several objectives" in (report.importance_note or "")
    assert [(r.number, r.fail_reason) for r in report.failed] == [(4, "fold 1: JaccardIndex stuck at 0")]
    assert "Pareto front (maximize, minimize): trials [0, 1, 3]" in render_report(report)
    page = parse(out / "report.html")
    assert list(page.images) == ["pareto_front.png"]
    assert (
        base64.b64decode(page.images["pareto_front.png"].split(",", 1)[1])
        == (out / "pareto_front.png").read_bytes()
    )


def test_report_html_opens_in_headless_chromium(tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip(
            "chromium is not installed (apt-get install chromium); the parse tests still check the HTML"
        )
    artifacts = tmp_path / "artifacts"
    sweep_id = pareto_study(artifacts)
    out = tmp_path / "report"
    sweep_report(None, sweep_id, out, artifact_dir=artifacts, html=True)
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--dump-dom",
            (out / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    dom = done.stdout
    assert "<h1>Sweep pareto</h1>" in dom and dom.count("<img ") == 1 and "data:image/png;base64," in dom
    problems = [
        line
        for line in done.stderr.splitlines()
        if "CONSOLE" in line or "net::ERR" in line or "Not allowed to load" in line or "Uncaught" in line
    ]
    assert problems == []
