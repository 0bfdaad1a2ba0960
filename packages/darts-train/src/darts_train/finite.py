"""Numbers that are not numbers: stop a run at the first batch with NaN / inf inputs or loss.

Labels outside {0, 1, 2} are caught by the same check. One fused check per batch (``isfinite`` of
the inputs and of the loss, labels <= 2, one host sync) costs far
less than the forward pass; only a batch that fails it is looked at closely, to name the patches
and count their non-finite values. A run stopped here raises :class:`NonFiniteError` before the
optimizer step, so the weights stay finite and no checkpoint of a NaN model is written.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from darts_core.errors import DartsInputError


class NonFiniteError(DartsInputError):
    """A batch held NaN / inf inputs, or its loss was not finite."""


class LabelValueError(DartsInputError):
    """A batch held label values other than 0 (background), 1 (RTS) and 2 (no data)."""


def check_batch(
    x: torch.Tensor,
    loss: torch.Tensor,
    indices: torch.Tensor | None,
    where: str,
    y: torch.Tensor | None = None,
) -> None:
    """Raise :class:`NonFiniteError` when ``x`` or ``loss`` holds NaN / inf (LabelValueError: ``y`` > 2).

    ``indices`` are the patch indices of the batch's items in their split; ``where`` says which
    split and stage the batch is from (``cross-val (training, epoch 3)``).
    """
    ok = torch.isfinite(loss).all() & torch.isfinite(x).all()
    if y is not None:
        ok &= (y <= 2).all() & (y >= 0).all()
    if bool(ok):
        return
    if y is not None:
        _check_labels(y, indices, where)
    per_item = (~torch.isfinite(x)).flatten(1).sum(1).cpu()
    bad = [i for i, n in enumerate(per_item.tolist()) if n]
    if bad:
        names = _patch_names(bad, indices)
        counts = ", ".join(f"patch {name}: {int(per_item[i])}" for i, name in zip(bad, names, strict=True))
        raise NonFiniteError(
            f"{where}: {int(per_item.sum())} non-finite input values (NaN / inf) in {len(bad)} patch(es) "
            f"({counts}); fix or drop these patches (preprocessing drops patches with NaN by default)"
        )
    value = float(loss.detach().float().cpu())
    raise NonFiniteError(
        f"{where}: the loss is {value} with finite inputs (the training diverged); "
        "lower the learning rate or use precision 32"
    )


def _check_labels(y: torch.Tensor, indices: torch.Tensor | None, where: str) -> None:
    bad_pixels = (y > 2) | (y < 0)
    per_item = bad_pixels.flatten(1).sum(1).cpu()
    bad = [i for i, n in enumerate(per_item.tolist()) if n]
    if not bad:
        return
    names = _patch_names(bad, indices)
    values = sorted(int(v) for v in torch.unique(y[bad_pixels]).cpu())
    raise LabelValueError(
        f"{where}: label value(s) {values} outside 0 (background), 1 (RTS), 2 (no data) in "
        + ", ".join(f"patch {n} ({int(per_item[i])} pixels)" for i, n in zip(bad, names, strict=True))
        + "; check the training set with validate-train-data"
    )


def _patch_names(positions: Iterable[int], indices: torch.Tensor | None) -> list[str]:
    if indices is None:
        return [f"#{p} of the batch" for p in positions]
    values = indices.tolist()
    return [str(values[p]) for p in positions]


def parameters_finite(module: torch.nn.Module) -> bool:
    """True when every parameter of ``module`` is finite (checked before a checkpoint is written)."""
    checks = [torch.isfinite(p).all() for p in module.parameters()]
    return bool(torch.stack(checks).all()) if checks else True
