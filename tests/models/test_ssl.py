"""SimCLR training from a lightly_config: config validation (no torch), loss, SGD, training on real images."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from tests.models.real_images import REAL_IMAGES, real_image, real_image_path
from thresher.errors import ConfigError, UsageError
from thresher.models.embedder import Embedder, make_embedder
from thresher.models.ssl_config import SimCLRConfig, simclr_config

needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason='torch not installed: pip install "thresher[torch]"')

# The lightly_config of seed 001, as a LightlyOne user passes it.
SEED_001 = {
    "loader": {"batch_size": 16, "shuffle": True, "num_workers": -1, "drop_last": True},
    "model": {"name": "resnet-18", "out_dim": 128, "num_ftrs": 32, "width": 1},
    "trainer": {"gpus": 1, "max_epochs": 100, "precision": 32},
    "criterion": {"temperature": 0.5},
    "optimizer": {"lr": 1, "weight_decay": 0.00001},
    "collate": {
        "input_size": 64, "cj_prob": 0.8, "cj_bright": 0.7, "cj_contrast": 0.7, "cj_sat": 0.7, "cj_hue": 0.2,
        "min_scale": 0.15, "random_gray_scale": 0.2, "gaussian_blur": 0.5, "kernel_size": 0.1,
        "vf_prob": 0, "hf_prob": 0.5, "rr_prob": 0,
    },
}  # fmt: skip

# Fine-tuning from ImageNet weights, the sensible choice for a small set; seconds on 2 cores.
# (A ResNet from scratch on 8 images learns too slowly for a clear curve in a few epochs.)
TINY = {
    "loader": {"batch_size": 8},
    "model": {"name": "mobilenetv2", "num_ftrs": 16, "out_dim": 32},
    "trainer": {"max_epochs": 12, "gpus": 1},
    "optimizer": {"lr": 0.01, "momentum": 0.9},
    "collate": {"input_size": 64, "min_scale": 0.5, "gaussian_blur": 0},
    "seed": 2,
}
# A ResNet from scratch, for the code paths only.
SCRATCH = {
    "loader": {"batch_size": 3},
    "model": {"name": "resnet-9", "width": 0.25, "num_ftrs": 8, "out_dim": 8},
    "trainer": {"max_epochs": 2},
    "optimizer": {"lr": 0.05},
    "collate": {"input_size": 32, "rr_prob": 0.5, "rr_degrees": 15},
}


def test_seed_001_config_is_accepted_as_is():
    config = simclr_config(SEED_001)
    assert config.model.name == "resnet-18" and config.collate.input_size == 64
    assert config.optimizer.lr == 1 and config.trainer.gpus == 1


def test_defaults_are_lightlys():
    config = simclr_config(None)
    assert (config.loader.batch_size, config.model.out_dim, config.model.num_ftrs) == (16, 128, 32)
    assert (config.criterion.temperature, config.optimizer.lr, config.optimizer.weight_decay) == (0.5, 1.0, 1e-5)
    assert (config.collate.input_size, config.collate.min_scale, config.collate.hf_prob) == (64, 0.15, 0.5)
    assert simclr_config(config) is config and isinstance(config, SimCLRConfig)


@pytest.mark.parametrize(
    "config, message",
    [
        ({"loader": {"batchsize": 16}}, r'lightly_config.loader.batchsize: unknown key \(did you mean "batch_size"\?\)'),
        ({"colate": {}}, r'lightly_config.colate: unknown key \(did you mean "collate"\?\)'),
        ({"collate": {"hf_prb": 0.5}}, r'lightly_config.collate.hf_prb: unknown key \(did you mean "hf_prob"\?\)'),
        ({"model": {"name": "resnet18"}}, r'lightly_config.model.name: unknown backbone \'resnet18\' \(did you mean "resnet-18"\?\)'),
        ({"collate": {"cj_prob": 1.5}}, r"lightly_config.collate.cj_prob: .*less than or equal to 1, got 1.5"),
        ({"loader": {"batch_size": 1}}, r"lightly_config.loader.batch_size: .*greater than or equal to 2, got 1"),
        ({"criterion": {"memory_bank_size": 4096}}, r"lightly_config.criterion.memory_bank_size"),
        ({"trainer": {"precision": 8}}, r"lightly_config.trainer.precision"),
    ],
)
def test_bad_configs_name_the_dotted_key(config, message):
    with pytest.raises(ConfigError, match=message):
        simclr_config(config)


@needs_torch
def test_nt_xent_loss_by_hand():
    from thresher.models.ssl_networks import nt_xent_loss
    from thresher.models.torch_embedder import import_torch

    torch = import_torch()
    # Two images, both views identical one-hot vectors: each row has its positive at cosine 1 and
    # two negatives at cosine 0, so with temperature 0.5 every row's loss is
    # -log(e^2 / (e^2 + 2 e^0)) = log(1 + 2 e^-2).
    z = torch.eye(2)
    assert float(nt_xent_loss(z, z.clone(), 0.5)) == pytest.approx(math.log(1 + 2 * math.exp(-2)), rel=1e-6)


@needs_torch
def test_sgd_step_by_hand():
    from thresher.models.ssl import sgd_step
    from thresher.models.torch_embedder import import_torch

    torch = import_torch()
    parameter = torch.nn.Parameter(torch.tensor([1.0]))
    velocities = [None]
    for _ in range(2):
        parameter.grad = torch.tensor([2.0])
        sgd_step([parameter], velocities, lr=0.5, weight_decay=0.1, momentum=0.9)
    # step 1: g = 2 + 0.1 * 1 = 2.1, v = 2.1, p = 1 - 1.05 = -0.05
    # step 2: g = 2 + 0.1 * -0.05 = 1.995, v = 0.9 * 2.1 + 1.995 = 3.885, p = -0.05 - 1.9425 = -1.9925
    assert parameter.item() == pytest.approx(-1.9925, abs=1e-6)
    assert parameter.grad is None


@pytest.fixture(scope="module")
def trained():
    """A SimCLR model fine-tuned on the 8 real images, read from their files."""
    from thresher.models.ssl import train_simclr

    from thresher.models.weights import weights_available

    if not weights_available():
        pytest.skip("the MobileNetV2 weights are not unpacked (docs/install.md)")
    epochs = []
    embedder = train_simclr([real_image_path(name) for name in REAL_IMAGES], TINY, on_epoch=lambda epoch, loss: epochs.append(epoch))
    return embedder, epochs


@needs_torch
def test_training_loss_decreases(trained):
    embedder, epochs = trained
    history = np.array(embedder.loss_history)
    assert epochs == list(range(12)) and len(history) == 12
    # Measured with seeds 0-4: first three epochs 2.33-2.58, last five 1.48-1.91.
    chance = math.log(2 * 8 - 1)  # uniform over the 15 other views
    assert history[:3].mean() > history[-5:].mean() + 0.3
    assert history[-5:].mean() < chance - 0.3
    assert np.polyfit(np.arange(len(history)), history, 1)[0] < 0


@needs_torch
def test_trained_embedder_output_and_notes(trained):
    embedder, _ = trained
    images = [real_image("chelsea"), real_image("coffee"), np.zeros((3, 5), np.uint8)]
    vectors = embedder.embed(images)
    assert isinstance(embedder, Embedder) and embedder.dim == 16
    assert embedder.name.startswith("simclr-mobilenetv2-16-")
    assert vectors.shape == (3, 16) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert embedder.notes == ["trainer.gpus=1 ignored: training runs on the CPU"]


@needs_torch
def test_save_and_load_give_the_same_vectors(trained, tmp_path):
    embedder, _ = trained
    path = embedder.save(tmp_path / "model.pt")
    loaded = make_embedder("simclr", path=path)
    images = [real_image("rocket")]
    assert loaded.name == embedder.name and loaded.loss_history == embedder.loss_history
    assert np.allclose(loaded.embed(images), embedder.embed(images), atol=1e-6)


@needs_torch
def test_same_seed_same_model_and_global_random_state_untouched():
    from thresher.models.ssl import train_simclr
    from thresher.models.torch_embedder import import_torch

    torch = import_torch()
    images = [real_image(name)[::8, ::8] for name in ("chelsea", "coffee", "rocket")]
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    first = train_simclr(images, SCRATCH)
    assert torch.rand(1) == before
    second = train_simclr(images, SCRATCH)
    assert second.name == first.name and second.loss_history == first.loss_history
    assert first.name.startswith("simclr-resnet-9-8-") and first.embed(images).shape == (3, 8)


@needs_torch
@pytest.mark.parametrize(
    "trainer, notes",
    [
        ({"gpus": 0}, []),
        ({"gpus": None, "precision": 16}, ["trainer.precision=16 ignored: CPU training runs in 32-bit floats"]),
        ({"gpus": [0, 1]}, ["trainer.gpus=[0, 1] ignored: training runs on the CPU"]),
    ],
)
def test_notes_say_what_a_cpu_run_ignores(trainer, notes):
    from thresher.models.ssl import train_simclr

    images = [real_image(name)[::8, ::8] for name in ("chelsea", "coffee")]
    assert train_simclr(images, {**SCRATCH, "trainer": {"max_epochs": 1, **trainer}, "loader": {"batch_size": 2}}).notes == notes


@needs_torch
def test_mobilenetv2_needs_a_multiple_of_32():
    from thresher.models.ssl import train_simclr

    with pytest.raises(ConfigError, match="multiple of 32, got 40"):
        train_simclr([real_image("chelsea"), real_image("coffee")], {**TINY, "collate": {"input_size": 40}})


@needs_torch
def test_too_few_or_unreadable_images(tmp_path):
    from thresher.errors import DatasourceError
    from thresher.models.ssl import train_simclr

    with pytest.raises(UsageError, match="at least 2 images to contrast, got 1"):
        train_simclr([real_image("chelsea")], SCRATCH)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 not a jpeg")
    with pytest.raises(DatasourceError, match=r"images\[1\] .*bad.jpg' cannot be read"):
        train_simclr([real_image("chelsea"), bad], SCRATCH)


@pytest.mark.parametrize(
    "history, batch_size, noted",
    [([2.5, math.log(15)], 8, True), ([2.5, 2.0], 8, False), ([1.0, math.log(31) * 1.005], 16, True), ([], 8, False)],
)
def test_a_collapse_to_chance_level_is_noted(history, batch_size, noted):
    from thresher.models.ssl import _collapse_note

    notes = _collapse_note(history, batch_size, lr=1.0)
    assert bool(notes) == noted
    if noted:
        assert "collapsed; try a lower optimizer.lr (now 1.0)" in notes[0]
