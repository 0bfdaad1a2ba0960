"""Typed configurations of ``train-smp``, ``test-smp`` and ``convert-lightning-checkpoint``.

Option names and defaults are those of the reference training guide; the CLI maps its options and
``config.toml`` keys onto these models one to one. Importing this module costs no torch import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from darts_core.renamed_keys import renamed_field, warn_renamed_keys
from darts_dataset.nextgen_options import NextgenSetOptions

SafeName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=128)]
"""A run / trial name or id: it becomes a folder name, so no path separators or spaces."""

Accelerator = Literal["auto", "cpu", "gpu", "cuda", "mps"]
Precision = Literal["auto", "32", "32-true", "16-mixed", "bf16-mixed"]
DeviceSpec = int | list[int] | Literal["auto", "cpu"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class TrainConfig(_Frozen, NextgenSetOptions):
    """One training run of an smp segmentation model on one fold of ``cross-val`` (``train-smp``)."""

    train_data_dir: Path
    """Root of the preprocessed training set (holds config.toml, cross-val.zarr, ...)."""
    artifact_dir: Path = Path("lightning_logs")
    """Root of all runs: {run_name}/{run_id} below it ({trial_name}/{run_name}-{run_id} in a trial)."""
    fold: int = Field(default=0, ge=0)
    """Index of the cross-validation fold used for validation."""
    n_folds: int = Field(default=5, ge=2)
    """Number of cross-validation folds."""
    continue_from_checkpoint: Path | None = None
    """Lightning checkpoint to resume: restores weights, optimizer, scheduler, epoch; appends to its run."""
    resume: Literal["never", "auto"] = "never"
    """auto: continue run run_name / run_id from its last.ckpt if there is one, else start it."""
    model_arch: str = "Unet"
    """segmentation_models_pytorch architecture (Unet, MAnet, UPerNet, Segformer, ...)."""
    model_encoder: str = "dpn107"
    """smp encoder name, timm ones with the tu- prefix."""
    model_encoder_weights: str | None = None
    """Pretrained encoder weights (e.g. imagenet); none = random initialisation."""
    augment: bool = True
    """Random flips / rotations (and optical jitter) of training patches."""
    learning_rate: float = Field(default=1e-3, gt=0)
    """AdamW learning rate."""
    gamma: float = Field(default=0.9, gt=0, le=1)
    """ExponentialLR decay factor, applied once per epoch."""
    focal_loss_alpha: float | None = Field(default=None, ge=0, le=1)
    """Focal loss weight of the positive class; none = no class weighting."""
    focal_loss_gamma: float = Field(default=2.0, ge=0)
    """Focal loss focusing parameter."""
    sampling: Literal["shuffle", "balanced"] = "shuffle"
    """How training patches are drawn each epoch: shuffle = every patch once in a seeded order;
    balanced = samples-per-epoch seeded draws, positive-ratio of them patches with RTS."""
    positive_ratio: float = Field(default=0.5, gt=0, lt=1)
    """Share of patches with RTS among the draws of balanced sampling."""
    samples_per_epoch: int | None = Field(default=None, ge=1)
    """Draws per epoch of balanced sampling; none = the number of training patches of the fold."""
    batch_size: int = Field(default=8, ge=1)
    """Patches per training batch."""
    max_epochs: int = Field(default=100, ge=1)
    """Number of training epochs."""
    log_every_n_steps: int = Field(default=10, ge=1)
    """Log the training loss every n optimizer steps."""
    check_val_every_n_epoch: int = Field(default=3, ge=1)
    """Validate every n epochs (a validation also always runs after the last epoch)."""
    early_stopping_patience: int = Field(default=5, ge=0)
    """Validations without improvement of val/JaccardIndex before stopping; 0 = no early stopping."""
    checkpoint_every_n_minutes: float | None = Field(default=None, gt=0)
    """Also save last.ckpt every n minutes within an epoch (for long epochs); none = after each epoch only."""
    plot_every_n_val_epochs: int = Field(default=5, ge=0)
    """Write validation sample plots every n validations (and after the last one); 0 = never."""
    random_seed: int = 42
    """Seed of weights initialisation, shuffling and augmentation."""
    num_workers: int = Field(default=0, ge=0)
    """DataLoader worker processes."""
    accelerator: Accelerator = "auto"
    """Lightning accelerator; auto = the first GPU when there is one, else the CPU."""
    devices: DeviceSpec = "auto"
    """A GPU index (0), a list of GPU indices ([0, 1] trains with DDP), cpu, or auto (one device).
    With accelerator = cpu, a list of k entries trains in k CPU processes (DDP over gloo)."""
    num_nodes: int = Field(default=1, ge=1)
    """Machines taking part in DDP training."""
    precision: Precision = "auto"
    """auto = bf16-mixed (with channels-last) on GPUs that support it and on CPUs with native bf16
    (AVX512-BF16 or AMX), else 32."""
    wandb_entity: str | None = None
    """Weights & Biases entity (user or team)."""
    wandb_project: str | None = None
    """Weights & Biases project; wandb logging is on when it is set (honours WANDB_MODE=offline)."""
    wandb_group: str | None = None
    """Weights & Biases group of the run (defaults to the trial name)."""
    run_name: SafeName | None = None
    """Groups runs of equal hyper-parameters; generated when absent."""
    run_id: SafeName | None = None
    """Unique id of this run (8 characters); generated when absent."""
    trial_name: SafeName | None = None
    """Sweep trial this run belongs to; changes the artifact layout and the wandb job type."""
    final_retrain: bool = False
    """Train on all of cross-val without a validation fold (the retrain after a sweep)."""
    bands: tuple[str, ...] | None = None
    """Subset of the training set's bands to train on, in this order; none = all of them."""

    @field_validator("bands")
    @classmethod
    def _known_bands(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        from darts_core.bands import check_bands

        return check_bands(value)

    @model_validator(mode="after")
    def _auto_resume_needs_identity(self) -> TrainConfig:
        if self.resume == "auto" and (self.run_name is None or self.run_id is None):
            raise ValueError("resume=auto needs run_name and run_id: they name the run to continue")
        if self.resume == "auto" and self.continue_from_checkpoint is not None:
            raise ValueError("give resume=auto or continue_from_checkpoint, not both")
        return self

    @model_validator(mode="after")
    def _fold_in_range(self) -> TrainConfig:
        if self.fold >= self.n_folds and not self.final_retrain:  # the final retrain uses no fold
            raise ValueError(
                f"fold={self.fold} is out of range for n_folds={self.n_folds} (0..{self.n_folds - 1})"
            )
        return self


class TestConfig(_Frozen, NextgenSetOptions):
    """Evaluation of a trained checkpoint on val-test and test (``test-smp``)."""

    __test__ = False  # not a pytest class

    train_data_dir: Path
    """Root of the preprocessed training set."""
    run_name: SafeName | None = None
    """Name of the run to evaluate (with run_id, when model_ckp is not given)."""
    run_id: SafeName | None = None
    """Id of the run to evaluate (with run_name, when model_ckp is not given)."""
    model_ckp: Path | None = None
    """Lightning checkpoint to evaluate; default = the best checkpoint of run_name / run_id."""
    batch_size: int = Field(default=8, ge=1)
    """Patches per inference batch."""
    artifact_dir: Path = Path("lightning_logs")
    """Where the training runs live."""
    num_workers: int = Field(default=0, ge=0)
    """DataLoader worker processes."""
    test_device: int | str = renamed_field("test_device", "device", "auto")
    """Device of the evaluation: a GPU index, cpu, auto, or a torch device string (cuda:1).
    Formerly `device`."""
    wandb_entity: str | None = None
    """Weights & Biases entity."""
    wandb_project: str | None = None
    """Weights & Biases project; test metrics are logged there when it is set."""
    output_dir: Path | None = None
    """Evaluation folder; default = {run dir}/eval."""
    n_sample_plots: int = Field(default=8, ge=0)
    """Sample plots written per split."""

    @model_validator(mode="before")
    @classmethod
    def _renamed_keys(cls, data: object) -> object:
        warn_renamed_keys(cls, data)
        return data

    @model_validator(mode="after")
    def _checkpoint_or_run(self) -> TestConfig:
        if self.model_ckp is None and (self.run_name is None or self.run_id is None):
            raise ValueError("give model_ckp, or both run_name and run_id, to choose the checkpoint to test")
        return self


class ConvertConfig(_Frozen):
    """A Lightning checkpoint to the deployable model file (``convert-lightning-checkpoint``)."""

    lightning_checkpoint: Path
    """The Lightning .ckpt written by train-smp."""
    out_directory: Path
    """Folder of the deployable file."""
    checkpoint_name: SafeName
    """Model name; the file is {checkpoint_name}_{YYYY-MM-DD}.ckpt."""
    framework: Literal["smp"] = "smp"
    """Model framework of the checkpoint."""
    overwrite: bool = False
    """Replace an existing file of the same name."""
