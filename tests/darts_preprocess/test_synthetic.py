"""The synthetic PlanetScope generator: real sites, visible labels, caches that cover, determinism."""

from __future__ import annotations

import hashlib
import runpy
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from rasterio.features import rasterize

from darts_core.errors import DartsInputError
from darts_preprocess.sources import (
    QUALITY_HIGH,
    QUALITY_INVALID,
    QUALITY_LOW,
    buffered_geobox,
    discover_planet_scenes,
    discover_s2_scenes,
    load_admin_regions,
    load_planet_scene,
    load_s2_scene,
)
from darts_preprocess.sources._tiles import missing_extent
from darts_preprocess.synthetic.collections import (
    TEST_REGION,
    generate_planet_collection,
    generate_s2_collection,
)
from darts_preprocess.synthetic.sites import (
    SITE_SCENES,
    embedded_labels_dir,
    labels_of,
    read_label_files,
    read_vector,
)

REPO = Path(__file__).resolve().parents[2]


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory):
    return generate_planet_collection(
        tmp_path_factory.mktemp("embedded"), None, n_scenes=7, size_px=64, seed=7
    )


def test_same_seed_same_bytes(embedded, tmp_path: Path) -> None:
    again = generate_planet_collection(tmp_path / "again", None, n_scenes=7, size_px=64, seed=7)
    first = _digest(embedded.data_dir.parent)
    assert first == _digest(again.data_dir.parent)
    assert any(name.endswith(".gpkg") for name in first)  # GeoPackages too, despite their timestamps
    other = generate_planet_collection(tmp_path / "other", None, n_scenes=7, size_px=64, seed=8)
    changed = {k for k, v in _digest(other.data_dir.parent).items() if first.get(k) != v}
    assert any(k.endswith("_SR.tif") for k in changed)


def test_scenes_sit_on_real_labels_with_visible_signal(synthetic_planet, rts_labels_dir: Path) -> None:
    labels, _ = read_label_files(rts_labels_dir)
    refs = discover_planet_scenes(synthetic_planet.data_dir).scenes
    assert {r.scene_id for r in refs} == set(synthetic_planet.scene_ids)
    positives = 0
    for ref in refs:
        scene = load_planet_scene(ref)
        grid = scene.odc.geobox
        assert grid.crs.epsg in range(32601, 32661) and grid.resolution.x == 3.0
        shapes = list(labels_of(ref.scene_id, labels).to_crs(grid.crs.to_wkt()).geometry)
        rts = np.zeros(grid.shape.yx, bool)
        if shapes:
            rts = rasterize([(g, 1) for g in shapes], out_shape=grid.shape.yx, transform=grid.affine).astype(
                bool
            )
        clear = scene["quality"].values == QUALITY_HIGH
        red, nir = scene["red"].values, scene["nir"].values
        assert 150 < np.nanmedian(red) < 4000 and 150 < np.nanmedian(nir) < 4000
        if ref.scene_id == "5761052_1070519_2022-07-04_241f":
            assert not rts.any()  # the negative scene
            continue
        inside, outside = rts & clear, ~rts & clear
        assert inside.sum() > 20, ref.scene_id
        assert red[inside].mean() > 1.4 * red[outside].mean()
        assert nir[inside].mean() < nir[outside].mean()
        positives += 1
    assert positives == 5


def test_truncated_id_scene_matches_its_labels_by_prefix(synthetic_planet, rts_labels_dir: Path) -> None:
    labels, _ = read_label_files(rts_labels_dir)
    scene_id = "4688749_0470419_2021-07-12_105c"
    assert scene_id in synthetic_planet.scene_ids
    assert (labels["image_id"] == scene_id).sum() == 0
    assert set(labels_of(scene_id, labels)["image_id"]) == {scene_id[:-1]}


def test_quality_has_every_class(synthetic_planet) -> None:
    ref = discover_planet_scenes(synthetic_planet.data_dir).scenes[0]
    quality = load_planet_scene(ref)["quality"].values
    counts = np.bincount(quality.ravel(), minlength=3)
    assert counts[QUALITY_INVALID] > 0 and counts[QUALITY_LOW] > 0
    assert counts[QUALITY_HIGH] > 0.6 * quality.size


def test_caches_cover_scenes_and_admin_selects_taimyr(synthetic_planet) -> None:
    regions = load_admin_regions(synthetic_planet.admin_dir)
    taimyr = regions[regions["shapeName"] == TEST_REGION].geometry.iloc[0]
    inside = set()
    for ref in discover_planet_scenes(synthetic_planet.data_dir).scenes:
        grid = load_planet_scene(ref).odc.geobox
        assert missing_extent(synthetic_planet.arcticdem_dir, buffered_geobox(grid, 250.0)) is None
        assert missing_extent(synthetic_planet.tcvis_dir, grid) is None
        if grid.geographic_extent.geom.intersects(taimyr):
            inside.add(ref.scene_id)
    assert inside == {"3649691_4572917_2020-08-14_1039", "4770635_4572716_2021-08-06_2416"}


def test_embedded_labels_are_small_cited_and_as_messy_as_the_originals(embedded) -> None:
    source = embedded_labels_dir()
    size = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    assert size < 200_000
    assert "Nitze" in (source / "CITATION.cff").read_text()
    assert "10.5281/zenodo.12706220" in (source / "README.md").read_text()
    assert (embedded.labels_dir / "CITATION.cff").is_file()
    gpkgs = sorted(p.name for p in embedded.labels_dir.rglob("*.gpkg"))
    assert "TrainingLabel_RTS_PlanetScope_Nitze_iteration005.gpkg" in gpkgs
    assert "ImageFootprints_RTS_PlanetScope_Nitze_iteration002.gpkg" in gpkgs
    it5 = next(embedded.labels_dir.rglob("TrainingLabel*iteration005.gpkg"))
    assert gpd.read_file(it5)["label"].map(type).eq(str).all()  # "1" stored as text, as in the original
    fp2 = gpd.read_file(next(embedded.labels_dir.rglob("ImageFootprints*iteration002.gpkg")))
    assert "202-00-722" in fp2["image_date"].astype(str).tolist()  # the malformed date survives
    assert len(discover_planet_scenes(embedded.data_dir).scenes) == 7


def test_embedded_subset_is_what_the_script_derives(
    rts_labels_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = REPO / "packages" / "darts-preprocess" / "scripts" / "make_embedded_labels.py"
    monkeypatch.setattr(sys, "argv", [str(script), str(rts_labels_dir), "--out", str(tmp_path)])
    runpy.run_path(str(script), run_name="__main__")
    committed = embedded_labels_dir()
    names = sorted(str(p.relative_to(committed)) for p in committed.rglob("*.geojson.gz"))
    assert names == sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.geojson.gz"))
    for name in names:
        a, b = read_vector(committed / name), read_vector(tmp_path / name)
        assert a.drop(columns="geometry").equals(b.drop(columns="geometry")), name
        assert a.geometry.geom_equals_exact(b.geometry, 1e-9).all(), name


def test_bad_arguments() -> None:
    with pytest.raises(DartsInputError, match="n_scenes"):
        generate_planet_collection("/nonexistent", None, n_scenes=0)
    with pytest.raises(DartsInputError, match="size_px"):
        generate_planet_collection("/nonexistent", None, size_px=8)


def test_out_dir_policy(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("user data")
    with pytest.raises(DartsInputError, match="not empty"):
        generate_planet_collection(tmp_path, None, n_scenes=1, size_px=32)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]
    out = tmp_path / "syn"
    generate_planet_collection(out, None, n_scenes=3, size_px=32)
    again = generate_planet_collection(out, None, n_scenes=2, size_px=32)  # a rerun replaces, never mixes
    assert len(discover_planet_scenes(again.data_dir).scenes) == 2


def test_s2_collection_reference_layout(tmp_path: Path) -> None:
    c = generate_s2_collection(tmp_path / "s2", None, n_scenes=4, size_px=48, seed=5)
    found = discover_s2_scenes(c.data_dir)
    assert [r.scene_id for r in found.scenes] == sorted(c.scene_ids) and not found.skipped
    assert c.image_ids == SITE_SCENES[:4]
    medians = {}
    for ref in found.scenes:
        assert ref.scl_path is not None and ref.labels_path is not None
        with rasterio.open(ref.scl_path) as scl, rasterio.open(ref.sr_path) as sr:
            assert scl.res == (20.0, 20.0) and sr.res == (10.0, 10.0)
        ds = load_s2_scene(ref)
        assert (ds["quality"].values == QUALITY_LOW).any() and (ds["quality"].values == QUALITY_INVALID).any()
        medians[ref.scene_id] = float(np.nanmedian(ds["red"].values))
        labels = gpd.read_file(ref.labels_path)
        assert labels.crs == ds.rio.crs and (labels["label"] == 1).all()
        assert (len(labels) == 0) == ("_20220704T" in ref.scene_id)  # the negative scene
    offset_scene = next(s for s in medians if "_N0500_" in s)  # stored +1000 DN, read back without it
    others = [v for s, v in medians.items() if s != offset_scene]
    assert min(others) - 200 < medians[offset_scene] < max(others) + 200
