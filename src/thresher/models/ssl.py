"""Self-supervised training of an embedder on the user's own images (SimCLR, torch extra, CPU).

`train_simclr(images, lightly_config)` trains as lightly's `lightly-train` does with the same
config: two random views of each image (ssl_augment), an embedding network and a projection
head (ssl_networks), the NT-Xent loss, plain SGD with the configured lr and weight decay, for
`trainer.max_epochs` epochs. It returns a `SimCLREmbedder`: embeddings of `model.num_ftrs`
values, unit rows, with the loss of every epoch in `loss_history` and what was ignored on this
machine in `notes`. Deterministic for a given `seed` (torch's global random state is left as it was).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from thresher.errors import ConfigError, DatasourceError, UsageError
from thresher.io.images import to_rgb8
from thresher.models.embedder import check_image, resize_rgb
from thresher.models.ssl_augment import random_views
from thresher.models.ssl_config import SimCLRConfig, simclr_config
from thresher.models.ssl_networks import embedding_network, nt_xent_loss, projection_head
from thresher.models.torch_embedder import TorchEmbedder, TorchModule, import_torch

log = logging.getLogger("thresher.models.ssl")


class SimCLREmbedder(TorchEmbedder):
    """A trained SimCLR embedding network as an `Embedder` (num_ftrs-d, unit rows).

    Images are resized to collate.input_size squared and ImageNet-normalized, as in training.
    `save(path)` writes weights and config; `load_simclr(path)` reads them back.
    """

    def __init__(self, module: object, config: SimCLRConfig, loss_history: Sequence[float] = (), notes: Sequence[str] = (), batch_size: int = 64) -> None:
        self.config = config
        self.loss_history = list(loss_history)
        self.notes = list(notes)
        size = config.collate.input_size
        super().__init__(module, f"simclr-{config.model.name}-{config.model.num_ftrs}-{_digest(module)}", config.model.num_ftrs, size, batch_size=batch_size)

    def save(self, path: str | os.PathLike) -> Path:
        """Write weights, config and loss history to `path` (written aside, then renamed)."""
        torch = import_torch()
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp")
        state = {"config": self.config.model_dump(mode="json"), "state_dict": self.module.state_dict(), "loss_history": self.loss_history}
        torch.save(state, tmp)
        tmp.replace(path)
        return path


def load_simclr(path: str | os.PathLike, batch_size: int = 64) -> SimCLREmbedder:
    """The embedder saved by `SimCLREmbedder.save`."""
    torch = import_torch()
    path = Path(path)
    if not path.is_file():
        raise DatasourceError(f"load_simclr: file {str(path)!r} not found")
    state = torch.load(path, map_location="cpu", weights_only=True)
    config = simclr_config(state["config"])
    module = embedding_network(config.model, pre_trained=False, input_size=config.collate.input_size)
    module.load_state_dict(state["state_dict"])
    return SimCLREmbedder(module.eval(), config, state.get("loss_history", ()), batch_size=batch_size)


def train_simclr(
    images: Sequence[np.ndarray | str | os.PathLike],
    config: SimCLRConfig | dict | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> SimCLREmbedder:
    """Train a SimCLR embedder on `images` with a lightly_config (dict as in seed 001, or SimCLRConfig).

    images: (H, W, 3) uint8 RGB arrays or image file paths, any indexable sequence; each is read
    once and kept in memory shrunk to the size the crops need. on_epoch(epoch, mean_loss) is
    called after every epoch (a progress bar hook). Returns the embedder in eval mode.
    """
    torch = import_torch()
    config = simclr_config(config)
    notes = _notes(config)
    for note in notes:
        log.info(note)
    if len(images) < 2:
        raise UsageError(f"train_simclr: needs at least 2 images to contrast, got {len(images)}")
    if config.model.name == "mobilenetv2" and config.collate.input_size % 32:
        raise ConfigError(f"lightly_config.collate.input_size: mobilenetv2 needs a multiple of 32, got {config.collate.input_size}")
    pool = training_pool(images, config.collate.input_size, config.collate.min_scale)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        network = embedding_network(config.model, config.pre_trained, config.collate.input_size)
        head = projection_head(config.model)
        history = _fit(network, head, pool, config, torch.Generator().manual_seed(config.seed), on_epoch)
    notes += _collapse_note(history, min(config.loader.batch_size, len(pool)), config.optimizer.lr)
    return SimCLREmbedder(network.eval(), config, history, notes)


def _fit(network, head, pool: list[np.ndarray], config: SimCLRConfig, generator, on_epoch) -> list[float]:
    """The training loop; returns the mean loss of every epoch."""
    torch = import_torch()
    parameters = [*network.parameters(), *head.parameters()]
    velocities = [None] * len(parameters)
    batch_size = min(config.loader.batch_size, len(pool))
    history = []
    network.train()
    head.train()
    for epoch in range(config.trainer.max_epochs):
        order = torch.randperm(len(pool), generator=generator) if config.loader.shuffle else torch.arange(len(pool))
        losses = []
        for start in range(0, len(pool), batch_size):
            rows = order[start : start + batch_size].tolist()
            if len(rows) < 2 or (config.loader.drop_last and len(rows) < batch_size):
                continue
            batch = [pool[row] for row in rows]
            view0 = random_views(batch, config.collate, generator)
            view1 = random_views(batch, config.collate, generator)
            loss = nt_xent_loss(head(network(view0)), head(network(view1)), config.criterion.temperature)
            loss.backward()
            sgd_step(parameters, velocities, config.optimizer.lr, config.optimizer.weight_decay, config.optimizer.momentum)
            losses.append(loss.item())
            if not math.isfinite(losses[-1]):
                raise ConfigError(f"train_simclr: the loss became {losses[-1]} in epoch {epoch}; lower lightly_config.optimizer.lr (now {config.optimizer.lr})")
        history.append(float(np.mean(losses)))
        if on_epoch is not None:
            on_epoch(epoch, history[-1])
    return history


def sgd_step(parameters: Sequence, velocities: list, lr: float, weight_decay: float, momentum: float) -> None:
    """One step of torch.optim.SGD (dampening 0, no Nesterov), then clear the gradients.

    g = grad + weight_decay * p; v <- momentum * v + g (v = g at the first step); p <- p - lr * v.
    Written out because creating a torch optimizer imports torch's compiler stack (about 6 s on
    2 cores). `velocities` holds v per parameter (None before the first step).
    """
    torch = import_torch()
    with torch.no_grad():
        for index, parameter in enumerate(parameters):
            if parameter.grad is None:
                continue
            step = parameter.grad + weight_decay * parameter if weight_decay else parameter.grad
            if momentum:
                step = step if velocities[index] is None else velocities[index].mul_(momentum).add_(step)
                velocities[index] = step
            parameter.add_(step, alpha=-lr)
            parameter.grad = None


def training_pool(images: Sequence, input_size: int, min_scale: float) -> list[np.ndarray]:
    """Every image as (H, W, 3) uint8 RGB, shrunk so the smallest crop still has input_size pixels.

    A crop of area fraction min_scale spans about sqrt(min_scale) of the shorter side, so the
    shorter side is capped at input_size / sqrt(min_scale); smaller images are kept as they are.
    """
    target = math.ceil(input_size / math.sqrt(min_scale))
    pool = []
    for index, item in enumerate(images):
        image = _read_rgb(item, index) if isinstance(item, (str, os.PathLike)) else check_image(item, f"images[{index}]")
        short = min(image.shape[:2])
        if short > target:
            scale = target / short
            image = resize_rgb(image, (max(1, round(image.shape[0] * scale)), max(1, round(image.shape[1] * scale))))
        pool.append(image)
    return pool


def _read_rgb(path: str | os.PathLike, index: int) -> np.ndarray:
    try:
        with Image.open(path) as image:
            return to_rgb8(image)
    except (OSError, ValueError) as exc:
        raise DatasourceError(f"train_simclr: images[{index}] {str(path)!r} cannot be read: {exc}") from exc


def _notes(config: SimCLRConfig) -> list[str]:
    """What of the config this CPU run does not honour, one sentence each."""
    notes = []
    if config.trainer.gpus not in (None, 0, []):
        notes.append(f"trainer.gpus={config.trainer.gpus} ignored: training runs on the CPU")
    if config.trainer.precision == 16:
        notes.append("trainer.precision=16 ignored: CPU training runs in 32-bit floats")
    return notes


def _collapse_note(history: list[float], batch_size: int, lr: float) -> list[str]:
    """A note when the last epoch's loss sits at chance level: every view equally similar to all others."""
    chance = math.log(2 * batch_size - 1)
    if history and abs(history[-1] - chance) < 0.01 * chance:
        return [f"the loss ended at chance level ({history[-1]:.3f} ~ log(2 * batch_size - 1)): the embeddings collapsed; try a lower optimizer.lr (now {lr})"]
    return []


def _digest(module: TorchModule) -> str:
    """12 hex digits identifying the module's weights (names the embeddings)."""
    sha = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        sha.update(name.encode())
        sha.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return sha.hexdigest()[:12]
