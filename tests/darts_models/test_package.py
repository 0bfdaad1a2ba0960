from __future__ import annotations

import subprocess
import sys

import darts_models


def test_import_is_light_and_public_names_resolve() -> None:
    code = "import sys, darts_models; print('torch' in sys.modules, 'torchmetrics' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
    for name in darts_models.__all__:
        assert getattr(darts_models, name) is not None
