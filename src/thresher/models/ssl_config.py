"""The `lightly_config` of LightlyOne (seed 001) as a validated pydantic model for `train_simclr`.

Same sections, keys and defaults as lightly's own `config.yaml`: loader, model, trainer,
criterion, optimizer, collate, plus `seed` and `pre_trained`. Unknown keys are a `ConfigError`
naming the dotted path and the nearest valid key. Keys that have no meaning on a CPU-only
machine (`trainer.gpus`, `loader.num_workers`) are accepted; `train_simclr` says in its notes
what it ignored.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from thresher.errors import ConfigError, did_you_mean

Probability = Annotated[float, Field(ge=0, le=1)]
BACKBONES = ("resnet-9", "resnet-18", "resnet-34", "mobilenetv2")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoaderConfig(_Section):
    """How images are batched: `batch_size` (capped at the number of images), `shuffle` each epoch,
    `drop_last` incomplete batch; `num_workers` is accepted and unused (augmentation runs in-process, batched)."""

    batch_size: int = Field(default=16, ge=2)
    shuffle: bool = True
    num_workers: int = -1
    drop_last: bool = True


class ModelConfig(_Section):
    """Backbone `name` (resnet-9/18/34 from scratch, or mobilenetv2 from ImageNet weights),
    `num_ftrs` = embedding length, `out_dim` = projection length the loss sees, `width` of the ResNet."""

    name: str = "resnet-18"
    out_dim: int = Field(default=128, ge=1)
    num_ftrs: int = Field(default=32, ge=1)
    width: float = Field(default=1.0, gt=0)

    @field_validator("name")
    @classmethod
    def _known_backbone(cls, name: str) -> str:
        if name not in BACKBONES:
            raise ValueError(f"unknown backbone {name!r}{did_you_mean(name, BACKBONES)}; expected one of {list(BACKBONES)}")
        return name


class TrainerConfig(_Section):
    """`max_epochs`; `gpus` is ignored (CPU training); `precision` 32 (16 is trained in 32 on CPU)."""

    gpus: Union[int, list[int], None] = 1
    max_epochs: int = Field(default=100, ge=1)
    precision: Literal[16, 32] = 32


class CriterionConfig(_Section):
    """NT-Xent `temperature`; `memory_bank_size` must be 0 (plain SimCLR)."""

    temperature: float = Field(default=0.5, gt=0)
    memory_bank_size: Literal[0] = 0


class OptimizerConfig(_Section):
    """SGD learning rate `lr` and L2 penalty `weight_decay`, as lightly passes them to torch.optim.SGD.

    `momentum` is thresher's addition (lightly's CLI has none, so the default is 0).
    """

    lr: float = Field(default=1.0, gt=0)
    weight_decay: float = Field(default=1e-5, ge=0)
    momentum: float = Field(default=0.0, ge=0, lt=1)


class CollateConfig(_Section):
    """Augmentations of each view (lightly's ImageCollateFunction); probabilities in [0, 1].

    input_size: side of the square views (pixels). min_scale: smallest crop area relative to the
    image. cj_*: color jitter (factors drawn in [1 - x, 1 + x], hue shift in [-cj_hue, cj_hue]
    turns) applied with probability cj_prob. random_gray_scale: probability of gray. gaussian_blur:
    probability of a blur whose kernel spans kernel_size * input_size pixels, sigma drawn in
    `sigmas`. hf_prob / vf_prob: flips. rr_prob: rotation by 90 degrees counter-clockwise, or by
    an angle drawn in rr_degrees ((min, max), or x for (-x, x)).
    """

    input_size: int = Field(default=64, ge=8)
    cj_prob: Probability = 0.8
    cj_bright: float = Field(default=0.7, ge=0)
    cj_contrast: float = Field(default=0.7, ge=0)
    cj_sat: float = Field(default=0.7, ge=0)
    cj_hue: float = Field(default=0.2, ge=0, le=0.5)
    min_scale: float = Field(default=0.15, gt=0, le=1)
    random_gray_scale: Probability = 0.2
    gaussian_blur: Probability = 0.5
    kernel_size: float = Field(default=0.1, gt=0, le=1)
    sigmas: tuple[float, float] = (0.1, 2.0)
    vf_prob: Probability = 0.0
    hf_prob: Probability = 0.5
    rr_prob: Probability = 0.0
    rr_degrees: Union[None, float, tuple[float, float]] = None


class SimCLRConfig(_Section):
    """The whole lightly_config; every section optional, defaults as lightly's."""

    loader: LoaderConfig = LoaderConfig()
    model: ModelConfig = ModelConfig()
    trainer: TrainerConfig = TrainerConfig()
    criterion: CriterionConfig = CriterionConfig()
    optimizer: OptimizerConfig = OptimizerConfig()
    collate: CollateConfig = CollateConfig()
    seed: int = 1
    pre_trained: bool = True


def simclr_config(config: SimCLRConfig | dict | None = None) -> SimCLRConfig:
    """Validate a lightly_config dict (or pass a SimCLRConfig through); errors as ConfigError."""
    if isinstance(config, SimCLRConfig):
        return config
    try:
        return SimCLRConfig.model_validate(config or {})
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0])) from None


def _describe(error: ErrorDetails) -> str:
    """One line: dotted path, what was expected, what came, the nearest key for an unknown one."""
    loc = [str(part) for part in error["loc"]]
    path = "lightly_config." + ".".join(loc) if loc else "lightly_config"
    if error["type"] == "extra_forbidden":
        model: type[BaseModel] = SimCLRConfig
        for part in loc[:-1]:  # the sections above the unknown key
            section = model.model_fields[part].annotation
            assert isinstance(section, type) and issubclass(section, BaseModel)
            model = section
        return f"{path}: unknown key{did_you_mean(loc[-1], model.model_fields)}; expected one of {list(model.model_fields)}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{path}: {message}, got {error.get('input')!r}"
