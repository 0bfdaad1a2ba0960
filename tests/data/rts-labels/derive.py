"""Derive this folder, a small subset of the real RTS training labels, from the original data set.

Usage, from the repository root, with the original labels folder (Nitze et al., ML training labels,
doi:10.5281/zenodo.12706220, one ``TrainingLabel_RTS_PlanetScope_Nitze_iterationNNN/`` per iteration)::

    uv run python tests/data/rts-labels/derive.py /path/to/rts-labels

Every ``.gpkg`` here is the original file with rows deleted (then vacuumed), so column types, layer
names and metadata are the original's. Kept rows:

- labels of the images the synthetic test scenes sit on (``SITE_SCENES`` of
  ``darts_preprocess.synthetic.sites``, exact or truncated-prefix image id) within
  ``KEEP_HALF_SIDE_M`` (a square) of each scene's anchor label: every scene window, its anchor and
  the embedded quickstart subset come out exactly as from the full data set;
- every invalid polygon and every polygon without a label value or id, of any image (the quirks
  the reader must repair or report);
- footprints of the scene images, of the images with kept labels, and every footprint whose date
  is malformed (``202-00-722``).

Iteration 001 has no footprint file, iteration 003 stores labels as float (with gaps), 005 as text
and with truncated image ids, 006 holds footprints without any label (negative scenes): all kept.
``CITATION.cff`` is copied; ``subset_counts.csv`` lists the labels, label images and footprints kept
per iteration (the tests' expected numbers). Everything but ``derive.py`` and ``README.md`` in the
output folder is rewritten on each run.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from shapely.geometry import box

from darts_preprocess.synthetic.sites import (
    ANCHOR_NEIGHBOUR_M,
    EMBED_HALF_SIDE_M,
    SITE_SCENES,
    Site,
    find_sites,
    labels_of,
    read_label_files,
    utm_epsg,
)

HERE = Path(__file__).resolve().parent
KEEP_IN_OUT = {"derive.py", "README.md"}
COUNTS_FILE = "subset_counts.csv"
KEEP_HALF_SIDE_M = EMBED_HALF_SIDE_M + ANCHOR_NEIGHBOUR_M + 30.0
"""Half side of the square kept around each anchor: the embedded square plus the anchor search radius."""
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _in_window(labels: gpd.GeoDataFrame, site: Site) -> pd.Index:
    """Index of the labels of ``site``'s image inside the kept square around its anchor."""
    of_site = labels_of(site.scene_id, labels)
    epsg = utm_epsg(site.anchor_lon, site.anchor_lat)
    anchor = gpd.GeoSeries(gpd.points_from_xy([site.anchor_lon], [site.anchor_lat]), crs=4326).to_crs(epsg)
    square = box(*anchor.buffer(KEEP_HALF_SIDE_M).total_bounds)
    return of_site.index[of_site.to_crs(epsg).geometry.intersects(square)]


def label_keep_mask(labels: gpd.GeoDataFrame, sites: list[Site]) -> pd.Series:
    """Rows of one TrainingLabel file to keep (see the module docstring)."""
    labels = labels.assign(image_id=labels["image_id"].astype(str))
    keep = ~labels.geometry.is_valid | labels["label"].isna() | labels["id"].isna()
    for site in sites:
        keep[_in_window(labels, site)] = True
    return keep


def footprint_keep_mask(footprints: gpd.GeoDataFrame, label_ids: set[str]) -> pd.Series:
    """Rows of one ImageFootprints file to keep (see the module docstring)."""
    ids = footprints["image_id"].astype(str)
    labelled = ids.map(lambda i: any(i == k or (i.startswith(k) and len(i) - len(k) <= 2) for k in label_ids))
    malformed = ~footprints["image_date"].astype(str).str.match(ISO_DATE)
    return ids.isin(SITE_SCENES) | labelled | malformed


def copy_rows(source: Path, target: Path, keep: pd.Series) -> None:
    """Copy ``source`` to ``target`` without the rows (by fid) where ``keep`` is False."""
    info = pyogrio.read_info(source)
    layer, fid = info["layer_name"], info["fid_column"]
    shutil.copyfile(source, target)
    target.chmod(0o644)
    with closing(sqlite3.connect(target)) as db:
        with db:
            db.executemany(f'DELETE FROM "{layer}" WHERE "{fid}" = ?', [(int(i),) for i in keep.index[~keep]])
        db.execute("VACUUM")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the original labels folder")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: this folder)")
    args = parser.parse_args()
    source, out = args.source.resolve(), args.out.resolve()
    sites = find_sites(SITE_SCENES, *read_label_files(source))
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        if old.name not in KEEP_IN_OUT:
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    rows = ["iteration,labels,label_images,footprints"]
    for folder in sorted(source.glob("TrainingLabel_RTS_PlanetScope_Nitze_iteration*")):
        (out / folder.name).mkdir()
        (label_file,) = folder.glob("TrainingLabel*.gpkg")
        labels = gpd.read_file(label_file, fid_as_index=True)
        keep = label_keep_mask(labels, sites)
        copy_rows(label_file, out / folder.name / label_file.name, keep)
        kept_ids = set(labels.loc[keep, "image_id"].astype(str))
        n_footprints = 0
        for fp_file in folder.glob("ImageFootprints*.gpkg"):
            footprints = gpd.read_file(fp_file, fid_as_index=True)
            fp_keep = footprint_keep_mask(footprints, kept_ids)
            copy_rows(fp_file, out / folder.name / fp_file.name, fp_keep)
            n_footprints += int(fp_keep.sum())
        rows.append(f"{folder.name[-3:]},{int(keep.sum())},{len(kept_ids)},{n_footprints}")
    shutil.copyfile(source / "CITATION.cff", out / "CITATION.cff")
    (out / "CITATION.cff").chmod(0o644)
    (out / COUNTS_FILE).write_text("\n".join(rows) + "\n")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print("\n".join(rows))
    print(f"wrote {out} ({size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
