"""Training samplers: the seeded shuffle and the class-balanced draw (ratio, reproducibility, coverage)."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from darts_dataset import DartsDataModule, DataModuleConfig, SamplingError
from darts_dataset.samplers import BalancedSampler, EpochShuffleSampler, RankShard

# 3 patches with RTS among 20: the imbalance balanced sampling is for
POSITIVE = np.zeros(20, dtype=bool)
POSITIVE[[2, 11, 17]] = True


def test_balanced_sampler_reaches_its_ratio_exactly():
    for ratio, n in ((0.5, 40), (0.25, 40), (0.3, 7)):
        draws = list(BalancedSampler(POSITIVE, ratio, n, seed=1))
        assert len(draws) == n
        assert sum(POSITIVE[draws]) == round(ratio * n)


def test_balanced_sampler_is_reproducible_and_changes_with_the_epoch():
    def epoch(seed: int, e: int) -> list[int]:
        sampler = BalancedSampler(POSITIVE, 0.5, 20, seed=seed)
        sampler.set_epoch(e)
        return list(sampler)

    assert epoch(3, 0) == epoch(3, 0)
    assert epoch(3, 0) != epoch(3, 1)
    assert epoch(3, 0) != epoch(4, 0)


def test_every_patch_of_a_class_is_drawn_before_one_repeats():
    draws = np.array(list(BalancedSampler(POSITIVE, 0.5, 34, seed=0)))
    pos, neg = draws[POSITIVE[draws]], draws[~POSITIVE[draws]]
    assert len(pos) == 17 and len(neg) == 17 == int((~POSITIVE).sum())
    assert sorted(neg.tolist()) == np.flatnonzero(~POSITIVE).tolist()  # each negative exactly once
    counts = np.bincount(pos, minlength=20)[POSITIVE]
    assert counts.max() - counts.min() <= 1  # 17 draws of 3 positives: 6, 6, 5


def test_set_epoch_reaches_the_dataset():
    seen: list[int] = []
    sampler = BalancedSampler(POSITIVE, 0.5, 4, seed=0, on_epoch=seen.append)
    sampler.set_epoch(5)
    shuffle = EpochShuffleSampler(4, seed=0, on_epoch=seen.append)
    shuffle.set_epoch(2)
    assert seen == [5, 2]


@pytest.mark.parametrize(
    ("positive", "ratio", "match"),
    [
        (np.zeros(5, dtype=bool), 0.5, "with RTS, but none of the 5"),
        (np.ones(5, dtype=bool), 0.5, "without RTS, but none of the 5"),
        (POSITIVE, 1.0, "strictly between 0 and 1"),
    ],
)
def test_impossible_balance_is_a_clear_error(positive, ratio, match):
    with pytest.raises(SamplingError, match=match):
        BalancedSampler(positive, ratio, 10, seed=0)


def test_datamodule_draws_balanced_batches_of_the_training_fold(tiny_set):
    cfg = DataModuleConfig(
        train_data_dir=tiny_set.path,
        n_folds=2,
        augment=None,
        sampling="balanced",
        positive_ratio=0.75,
        samples_per_epoch=24,
        batch_size=4,
    )
    dm = DartsDataModule(cfg)
    batches = list(dm.train_dataloader())
    drawn = [(int(i), bool((y == 1).any())) for b in batches for i, y in zip(b["index"], b["y"], strict=True)]
    assert len(drawn) == 24
    assert sum(has_rts for _, has_rts in drawn) == 18
    assert {i for i, _ in drawn} <= set(dm.train_dataset.indices.tolist())  # never the validation fold
    again = [int(i) for b in DartsDataModule(cfg).train_dataloader() for i in b["index"]]
    assert again == [i for i, _ in drawn]


def test_reference_sets_without_metadata_are_balanced_from_their_labels(make_reference_set, tmp_path):
    ref = make_reference_set(tmp_path / "train")
    labels = zarr.open_group(tmp_path / "train" / "cross-val.zarr", mode="r+")["y"]
    labels[::2] = 0  # even patches without RTS; the random labels of the odd ones all hold some
    cfg = DataModuleConfig(
        train_data_dir=ref.path, n_folds=2, augment=None, sampling="balanced", positive_ratio=0.5
    )
    dm = DartsDataModule(cfg)
    drawn = [int(i) for b in dm.train_dataloader() for i in b["index"]]
    assert len(drawn) == len(dm.train_dataset) == 5  # one block of 5 patches trains, the other validates
    assert sum(i % 2 for i in drawn) == round(0.5 * 5)


def test_rank_shards_cover_the_single_process_order():
    inner = BalancedSampler(POSITIVE, 0.5, 11, seed=2)
    order = list(inner)
    train = [list(RankShard(inner, 11, rank, 2, pad=True)) for rank in (0, 1)]
    assert [len(s) for s in train] == [6, 6]  # padded: both ranks take the same number of steps
    assert sorted(train[0] + train[1]) == sorted([*order, order[0]])
    evaluation = [list(RankShard(None, 11, rank, 2, pad=False)) for rank in (0, 1)]
    assert sorted(evaluation[0] + evaluation[1]) == list(range(11))  # nothing counted twice
    seen = []
    shard = RankShard(EpochShuffleSampler(4, 0, on_epoch=seen.append), 4, 1, 2, pad=True)
    shard.set_epoch(3)
    assert seen == [3] and len(shard) == 2
