"""Copy the small real rasters of this folder from their original files, checking they are the same.

Usage, from the repository root, with the folder that holds the original files::

    uv run python tests/data/real-rasters/derive.py /path/to/real-rasters

The files are copied unchanged; a file whose SHA-256 differs from the one recorded below is
refused, so a rerun either reproduces this folder byte for byte or says which file changed.
Sources and licences: README.md in this folder.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = {
    "L3B_S2B_00390821JXN0L2A_20210319_20220730_C01.nc": (
        "16d4793417a3eeb033ad08414ea8b47a7fbeb854635f06f9705135daf512bb78"
    ),
    "rgbn_20160517.tif": "6ea4dea69d791a4e41d0541498a8faff2f42b070479a39356c104bf410c1756f",
    "rmnp-dem.tif": "6570c578b63ebe194610010ac45d6bb2ccc0a4061538e2c94c089a4c233f0dd8",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="folder holding the original files")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: this folder)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, expected in FILES.items():
        digest = hashlib.sha256((args.source / name).read_bytes()).hexdigest()
        if digest != expected:
            sys.exit(f"{args.source / name}: SHA-256 {digest}, expected {expected}")
        shutil.copyfile(args.source / name, args.out / name)
        (args.out / name).chmod(0o644)
        print(f"copied {name}")


if __name__ == "__main__":
    main()
