"""`darts segment-planet-scenes` end to end on generated scenes: outputs, rerun, resume, bad inputs."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import rasterio
import torch
from scipy import ndimage

from darts_models import DeployableModelConfig, ModelSpec, build_model, save_deployable_checkpoint
from darts_preprocess.synthetic.collections import SyntheticCollection, generate_planet_collection

BANDS = ("blue", "green", "red", "nir", "ndvi", "relative_elevation", "tc_brightness")


@dataclass
class Run:
    code: int
    out: str
    err: str


def write_model(path: Path, bands: tuple[str, ...], seed: int = 0) -> Path:
    """A randomly initialised Unet (mobilenet_v2 encoder, no pretrained weights) as a deployable file."""
    torch.manual_seed(seed)
    net = build_model("Unet", "mobilenet_v2", None, len(bands), 1)
    config = DeployableModelConfig(
        input_combination=bands,
        model=ModelSpec(arch="Unet", encoder_name="mobilenet_v2", in_channels=len(bands)),
        norm_factors=dict.fromkeys(bands, 1 / 3000),
        name=path.stem,
        patch_size=64,
    )
    save_deployable_checkpoint(path, net.state_dict(), config)
    return path


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> SyntheticCollection:
    """Two 96 px scenes (a PSScene and a PSOrthoTile) with ArcticDEM and TCVIS caches. Read-only."""
    torch.set_num_threads(1)
    return generate_planet_collection(tmp_path_factory.mktemp("scenes"), None, n_scenes=2, size_px=96, seed=3)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model(tmp_path_factory.mktemp("models") / "tiny-unet.pt", BANDS)


def darts(tmp: Path, capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    from darts_cli.app import main

    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["--log-dir", str(tmp / "logs"), "segment-planet-scenes", *args])
    captured = capsys.readouterr()
    return Run(int(exit_info.value.code or 0), captured.out, captured.err)


def segment_args(collection: SyntheticCollection, out: Path, *models: Path, **dirs: Path) -> list[str]:
    args = [
        "--data-dir", str(dirs.get("data_dir", collection.data_dir)),
        "--arcticdem-dir", str(dirs.get("arcticdem_dir", collection.arcticdem_dir)),
        "--tcvis-dir", str(collection.tcvis_dir),
        "--output-dir", str(out),
        "--device", "cpu",
        "--offline",
    ]  # fmt: skip
    for model in models:
        args += ["--model-file", str(model)]
    return args


@pytest.fixture(scope="module")
def segmented(
    tmp_path_factory: pytest.TempPathFactory, collection: SyntheticCollection, model_file: Path
) -> Path:
    """One run over both scenes (read-only: tests copy it before changing it)."""
    from darts_cli.app import main

    tmp = tmp_path_factory.mktemp("segmented")
    out = tmp / "out"
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "--log-dir",
                str(tmp / "logs"),
                "segment-planet-scenes",
                *segment_args(collection, out, model_file),
            ]
        )
    assert exit_info.value.code == 0
    return out


def _scene_rasters(collection: SyntheticCollection) -> dict[str, Path]:
    return {p.parent.name: p for p in collection.data_dir.rglob("*_SR*.tif")}


def _mtimes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_outputs_open_on_the_scene_grid(segmented: Path, collection: SyntheticCollection) -> None:
    from darts_preprocess.engineering.model_input import ModelInputSettings, load_model_input
    from darts_preprocess.sources.planet import discover_planet_scenes

    refs = {r.scene_id: r for r in discover_planet_scenes(collection.data_dir).scenes}
    settings = ModelInputSettings("planet", collection.arcticdem_dir, collection.tcvis_dir, offline=True)
    rasters = _scene_rasters(collection)
    assert sorted(p.name for p in segmented.iterdir()) == sorted(rasters)
    for scene_id, sr in rasters.items():
        folder = segmented / scene_id
        valid = load_model_input(refs[scene_id], BANDS, settings)["valid"].values
        assert 0 < valid.sum() < valid.size  # the generated udm2 marks an unusable corner
        with rasterio.open(sr) as scene:
            crs, transform, shape = scene.crs, scene.transform, scene.shape
        maps = {}
        for name in ("probabilities.tif", "binarized.tif"):
            with rasterio.open(folder / name) as src:
                assert src.crs == crs and src.transform == transform and src.shape == shape
                assert src.nodata == 255
                maps[name] = src.read(1)
            np.testing.assert_array_equal(maps[name] == 255, ~valid)  # no data exactly where invalid
        assert set(np.unique(maps["binarized.tif"])) <= {0, 1, 255}
        assert maps["probabilities.tif"][valid].max() <= 100
        polygons = pyogrio.read_dataframe(folder / "polygons.gpkg")
        assert polygons.crs == crs
        assert len(polygons) == ndimage.label(maps["binarized.tif"] == 1)[1]
        extent = pyogrio.read_dataframe(folder / "extent.gpkg")
        assert extent["area_m2"].iloc[0] == pytest.approx(valid.sum() * abs(transform.a * transform.e))
        record = json.loads((folder / "run.json").read_text())
        assert record["models"][0]["sha256"] and record["bands"] == list(BANDS)
        assert record["scene_file"] == str(sr)
        assert record["options"]["patch_size"] == 64 and record["options"]["threshold"] == 0.5
        assert {"load_s", "predict_s", "write_s"} <= set(record["timings"])


def test_rerun_does_nothing(
    segmented: Path, collection: SyntheticCollection, model_file: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    shutil.copytree(segmented, out)
    before = _mtimes(out)
    run = darts(tmp_path, capsys, *segment_args(collection, out, model_file))
    assert run.code == 0, run.err
    assert "0 segmented, 2 already finished" in " ".join(run.out.split())
    assert _mtimes(out) == before


def test_killed_run_resumes_and_overwrite_redoes(
    segmented: Path, collection: SyntheticCollection, model_file: Path, tmp_path: Path, capsys
) -> None:
    out = tmp_path / "out"
    shutil.copytree(segmented, out)
    killed, untouched = sorted(p.name for p in out.iterdir())
    (out / killed / "run.json").unlink()  # killed while writing binarized.tif: no run.json
    (out / killed / "binarized.tif").unlink()
    (out / killed / ".binarized.partial-deadbeef.tif").write_bytes(b"half a raster")
    before = _mtimes(out / untouched)
    run = darts(tmp_path, capsys, *segment_args(collection, out, model_file))
    assert run.code == 0, run.err
    assert "1 segmented, 1 already finished" in " ".join(run.out.split())
    assert sorted(p.name for p in (out / killed).iterdir()) == sorted(
        p.name for p in (segmented / killed).iterdir()
    )
    for name in ("probabilities.tif", "binarized.tif"):
        with rasterio.open(out / killed / name) as again, rasterio.open(segmented / killed / name) as first:
            np.testing.assert_array_equal(again.read(1), first.read(1))
    assert _mtimes(out / untouched) == before
    run = darts(tmp_path, capsys, *segment_args(collection, out, model_file), "--overwrite")
    assert run.code == 0 and "2 segmented" in " ".join(run.out.split())
    assert _mtimes(out / untouched)["run.json"] > before["run.json"]


def test_a_band_the_sensor_lacks_fails_before_any_scene_is_read(
    collection: SyntheticCollection, tmp_path: Path, capsys
) -> None:
    model = write_model(tmp_path / "s2-bands.pt", ("red", "nir", "swir16"))
    out = tmp_path / "out"
    run = darts(tmp_path, capsys, *segment_args(collection, out, model, data_dir=tmp_path / "no-such-dir"))
    assert run.code == 1
    assert "swir16" in run.err and "PlanetScope" in run.err
    assert not out.exists()


def test_ensemble_of_models_with_other_bands_is_an_error(
    collection: SyntheticCollection, model_file: Path, tmp_path: Path, capsys
) -> None:
    other = write_model(tmp_path / "other.pt", ("red", "nir", "ndvi"), seed=1)
    run = darts(tmp_path, capsys, *segment_args(collection, tmp_path / "out", model_file, other))
    assert run.code == 1
    text = " ".join(run.err.split())
    assert "same bands" in text and "(other)" in text and "tiny-unet" in text


def test_unreadable_scene_is_skipped_with_its_reason(
    collection: SyntheticCollection, model_file: Path, tmp_path: Path, capsys
) -> None:
    data = tmp_path / "planet"
    shutil.copytree(collection.data_dir, data)
    broken = sorted(data.rglob("*_SR*.tif"))[0]
    broken.write_bytes(broken.read_bytes()[:500])  # truncated download
    args = segment_args(collection, tmp_path / "out", model_file, data_dir=data)
    run = darts(tmp_path, capsys, *args)
    assert run.code == 0, run.err  # one scene still segmented
    text = " ".join(run.out.split())
    assert "1 segmented, 0 already finished (not redone), 1 failed" in text
    assert "SceneFormatError" in text  # the reason, in the summary table
    assert not (tmp_path / "out" / broken.parent.name / "run.json").exists()
    assert darts(tmp_path, capsys, *args, "--strict").code == 1  # --strict: any failure fails the run


def test_missing_dem_coverage_fails_that_scene_and_all_failing_exits_1(
    collection: SyntheticCollection, model_file: Path, tmp_path: Path, capsys
) -> None:
    rasters = sorted(_scene_rasters(collection))
    dem = tmp_path / "arcticdem"
    dem.mkdir()
    for tile in collection.arcticdem_dir.iterdir():
        if rasters[0] not in tile.name:
            shutil.copy(tile, dem / tile.name)
    args = segment_args(collection, tmp_path / "out", model_file, arcticdem_dir=dem)
    run = darts(tmp_path, capsys, *args, "--scene-ids", rasters[0])
    assert run.code == 1
    text = " ".join((run.out + run.err).split())
    assert "AuxDataMissingError" in text and "1 failed" in text


def test_unknown_scene_id_and_missing_dem_folder_are_clear_errors(
    collection: SyntheticCollection, model_file: Path, tmp_path: Path, capsys
) -> None:
    args = segment_args(collection, tmp_path / "out", model_file)
    run = darts(tmp_path, capsys, *args, "--scene-ids", "20990101_000000_ffff")
    assert run.code == 1 and "20990101_000000_ffff" in run.err
    no_dem = [a for i, a in enumerate(args) if a != "--arcticdem-dir" and args[i - 1] != "--arcticdem-dir"]
    run = darts(tmp_path, capsys, *no_dem)
    assert run.code == 1 and "arcticdem-dir" in run.err


def test_sentinel2_scenes_are_segmented_on_their_grid(
    tmp_path: Path, model_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from darts_cli.app import main
    from darts_preprocess.synthetic.collections import generate_s2_collection

    s2 = generate_s2_collection(tmp_path / "s2", None, n_scenes=1, size_px=64, seed=5)
    out = tmp_path / "out"
    args = ["--sentinel2-dir", str(s2.data_dir), "--arcticdem-dir", str(s2.arcticdem_dir)]
    args += ["--tcvis-dir", str(s2.tcvis_dir), "--model-file", str(model_file), "--output-dir", str(out)]
    args += ["--device", "cpu", "--offline"]
    with pytest.raises(SystemExit) as exit_info:
        main(["--log-dir", str(tmp_path / "logs"), "segment-s2-scenes", *args])
    assert exit_info.value.code == 0, capsys.readouterr().err
    (sr,) = s2.data_dir.rglob("*_SR.tif")
    with rasterio.open(sr) as scene, rasterio.open(out / sr.parent.name / "binarized.tif") as binarized:
        assert binarized.crs == scene.crs and binarized.transform == scene.transform
        assert binarized.shape == scene.shape
    assert json.loads((out / sr.parent.name / "run.json").read_text())["sensor"] == "s2"
