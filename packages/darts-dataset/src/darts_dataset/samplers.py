"""Training samplers: a seeded per-epoch shuffle, and a class-balanced draw of patches with and without RTS.

Both follow ``(seed, epoch)``: Lightning calls ``set_epoch`` at the start of every training epoch (also
through its distributed wrapper), and the samplers pass the epoch on to the dataset so that shuffling and
augmentation change together. Imported lazily by ``darts_dataset`` (PEP 562): it needs torch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
from torch.utils.data import DistributedSampler, Sampler

from darts_dataset.errors import SamplingError


class EpochShuffleSampler(Sampler[int]):
    """A permutation of ``range(n)`` drawn from ``(seed, epoch)``; ``set_epoch`` also tells the dataset."""

    def __init__(self, n: int, seed: int, on_epoch: Callable[[int], None] | None = None) -> None:
        self.n = n
        self.seed = seed
        self.epoch = 0
        self.on_epoch = on_epoch

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        if self.on_epoch is not None:
            self.on_epoch(self.epoch)

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, self.epoch]))
        return iter(rng.permutation(self.n).tolist())

    def __len__(self) -> int:
        return self.n


def _cycled_draws(pool: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` members of ``pool``: whole seeded permutations one after another, so every member is drawn
    before any is drawn twice (oversampling a small class repeats it as evenly as possible)."""
    if k == 0:
        return np.empty(0, dtype=np.int64)
    rounds = -(-k // len(pool))
    return np.concatenate([rng.permutation(pool) for _ in range(rounds)])[:k]


class BalancedSampler(EpochShuffleSampler):
    """``num_samples`` draws per epoch, ``round(positive_ratio * num_samples)`` of them patches with RTS.

    ``positive`` flags the dataset's patches that hold any RTS pixel. Positives and negatives are each
    drawn as consecutive seeded permutations of their pool (no patch repeats before its whole class has
    been drawn), then the two are interleaved in a seeded random order. The draw depends only on
    ``(seed, epoch)``, so a resumed or repeated run sees the same patches.
    """

    def __init__(
        self,
        positive: np.ndarray,
        positive_ratio: float,
        num_samples: int,
        seed: int,
        on_epoch: Callable[[int], None] | None = None,
    ) -> None:
        positive = np.asarray(positive, dtype=bool)
        if not 0.0 < positive_ratio < 1.0:
            raise SamplingError(f"positive_ratio must be strictly between 0 and 1, got {positive_ratio}")
        if num_samples < 1:
            raise SamplingError(f"samples per epoch must be >= 1, got {num_samples}")
        self.positives = np.flatnonzero(positive)
        self.negatives = np.flatnonzero(~positive)
        for name, pool in (("with RTS", self.positives), ("without RTS", self.negatives)):
            if len(pool) == 0:
                raise SamplingError(
                    f"balanced sampling needs training patches {name}, but none of the {len(positive)} "
                    "training patches is one; use sampling = 'shuffle' for this set or fold"
                )
        self.positive_ratio = positive_ratio
        self.n_positive = round(positive_ratio * num_samples)
        super().__init__(num_samples, seed, on_epoch)

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, self.epoch, 1]))
        pos = _cycled_draws(self.positives, self.n_positive, rng)
        neg = _cycled_draws(self.negatives, self.n - self.n_positive, rng)
        return iter(rng.permutation(np.concatenate([pos, neg])).tolist())


class RankShard(DistributedSampler[int]):
    """This process's share of a sampler's order when training runs in several processes (DDP).

    Rank ``r`` of ``w`` takes positions ``r, r + w, r + 2w, ...`` of the order ``inner`` draws (or of
    ``range(n)`` without one), so the ranks together see exactly the single-process order. For
    training (``pad``) the order is first extended by its own head to a multiple of ``w``: every rank
    then runs the same number of steps, as DDP's gradient sync needs. For evaluation nothing is
    padded, so no patch is counted twice in metrics synced across ranks. It is a
    ``DistributedSampler`` so that Lightning uses it as it is; ``set_epoch`` reaches ``inner``.
    """

    def __init__(
        self, inner: EpochShuffleSampler | None, n: int, rank: int, world_size: int, pad: bool
    ) -> None:
        # DistributedSampler.__init__ wants a dataset and a process group; nothing of it is used here
        self.inner = inner
        self.n = len(inner) if inner is not None else n
        self.rank = rank
        self.num_replicas = world_size
        self.pad = pad
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
        if self.inner is not None:
            self.inner.set_epoch(epoch)

    def __iter__(self) -> Iterator[int]:
        order = list(self.inner) if self.inner is not None else list(range(self.n))
        if self.pad and order:
            order += (order * self.num_replicas)[: -len(order) % self.num_replicas]
        return iter(order[self.rank :: self.num_replicas])

    def __len__(self) -> int:
        if self.pad:
            return -(-self.n // self.num_replicas)
        return len(range(self.rank, self.n, self.num_replicas))
