"""Derive the embedded real-label subset shipped in ``darts_preprocess/data/rts_labels``.

Usage (from the repository root)::

    uv run python packages/darts-preprocess/scripts/make_embedded_labels.py tests/data/rts-labels

(or the full original data set, doi:10.5281/zenodo.12706220: both give the same subset).

For every scene in ``darts_preprocess.synthetic.sites.SITE_SCENES`` it keeps the labels of that
image within ``EMBED_HALF_SIDE_M`` of the scene's anchor label, and the image footprint, writing them
as gzipped GeoJSON with the same folder and file names as the source (``.geojson.gz`` for ``.gpkg``),
so ``generate_planet_collection(labels_dir=None)`` places the scenes exactly where it would with
the full data. Columns and value types (int / float / string labels, malformed dates, truncated
image ids) are kept as they are in the source: the subset is as messy as the original.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from darts_preprocess.synthetic.sites import (
    EMBED_HALF_SIDE_M,
    SITE_SCENES,
    find_sites,
    labels_of,
    read_label_files,
    utm_epsg,
)

FOOTPRINT_SIMPLIFY_DEG = 2e-4
"""Footprints are simplified (~10 m) to keep the package small; labels are kept exactly."""
PACKAGE_DATA = Path(__file__).resolve().parents[1] / "src" / "darts_preprocess" / "data" / "rts_labels"
README = """# Embedded subset of the RTS training labels

A few sites of *ML training labels for retrogressive thaw slumps* (Nitze, I. et al., v1.0, Zenodo,
doi:10.5281/zenodo.12706220), licensed CC-BY 4.0 (see CITATION.cff). Only the labels within
{radius:.0f} m (a square) of one label cluster per image, and the image footprints (simplified by ~10 m),
for the images
{scenes}.

Derived by `packages/darts-preprocess/scripts/make_embedded_labels.py` (do not edit by hand); used
by `darts quickstart` / `generate_planet_collection(labels_dir=None)` when the full data set is absent.
"""


def _subset(labels: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    kept = []
    for site in find_sites(SITE_SCENES, labels, footprints):
        lab = labels_of(site.scene_id, labels)
        if not len(lab):
            continue
        epsg = utm_epsg(site.anchor_lon, site.anchor_lat)
        point = gpd.points_from_xy([site.anchor_lon], [site.anchor_lat], crs=4326).to_crs(epsg)[0]
        square = box(*point.buffer(EMBED_HALF_SIDE_M).bounds)
        kept.append(lab[lab.to_crs(epsg).geometry.intersects(square)])
    fps = footprints[footprints["image_id"].isin(SITE_SCENES)].copy()
    fps["geometry"] = fps.geometry.simplify(FOOTPRINT_SIMPLIFY_DEG, preserve_topology=True)
    return pd.concat(kept), fps


def _write(frame: pd.DataFrame, out_dir: Path) -> None:
    for rel, part in frame.groupby("_file", sort=True):
        path = out_dir / Path(str(rel)).with_suffix(".geojson.gz")
        path.parent.mkdir(parents=True, exist_ok=True)
        part = gpd.GeoDataFrame(part.drop(columns=["_file", "_iteration"]), geometry="geometry", crs=4326)
        plain = path.with_suffix("")
        part.to_file(plain, driver="GeoJSON", COORDINATE_PRECISION=6, WRITE_NAME="NO")
        path.write_bytes(gzip.compress(plain.read_bytes(), compresslevel=9, mtime=0))
        plain.unlink()
        print(f"wrote {len(part):4d} features to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "labels_dir", type=Path, help="folder of the real label gpkgs (e.g. tests/data/rts-labels)"
    )
    parser.add_argument("--out", type=Path, default=PACKAGE_DATA)
    args = parser.parse_args()
    labels, footprints = read_label_files(args.labels_dir)
    kept, fps = _subset(labels, footprints)
    if args.out.exists():
        shutil.rmtree(args.out)
    _write(kept, args.out)
    _write(fps, args.out)
    shutil.copyfile(args.labels_dir / "CITATION.cff", args.out / "CITATION.cff")
    (args.out / "README.md").write_text(
        README.format(radius=EMBED_HALF_SIDE_M, scenes=", ".join(SITE_SCENES))
    )
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"embedded subset: {len(kept)} labels, {len(fps)} footprints, {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
