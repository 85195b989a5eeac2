"""Networks for SimCLR training (torch extra): backbones, the embedding network, the projection head.

As lightly's CLI builds them: embedding = backbone feature map -> 1x1 convolution to
`num_ftrs` channels -> average over space; projection head = Linear(num_ftrs, num_ftrs), ReLU,
Linear(num_ftrs, out_dim). The ResNets use the ImageNet stem (7x7 stride-2 convolution and
max pooling): lightly's ResNetGenerator keeps the CIFAR stem (3x3 stride 1, no pooling), which
costs 16 times the compute at the same input size, too much for a CPU.
"""

from __future__ import annotations

from functools import cache

from thresher.models.ssl_config import ModelConfig
from thresher.models.torch_embedder import import_torch

_RESNET_BLOCKS = {"resnet-9": (1, 1, 1, 1), "resnet-18": (2, 2, 2, 2), "resnet-34": (3, 4, 6, 3)}


def embedding_network(model: ModelConfig, pre_trained: bool = True, input_size: int = 64):
    """(N, 3, H, W) -> (N, num_ftrs): backbone, 1x1 convolution to num_ftrs channels, spatial mean."""
    torch = import_torch()
    backbone, channels = backbone_network(model, pre_trained, input_size)
    return torch.nn.Sequential(backbone, torch.nn.Conv2d(channels, model.num_ftrs, 1), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())


def projection_head(model: ModelConfig):
    """(N, num_ftrs) -> (N, out_dim), the part only the loss sees."""
    nn = import_torch().nn
    return nn.Sequential(nn.Linear(model.num_ftrs, model.num_ftrs), nn.ReLU(), nn.Linear(model.num_ftrs, model.out_dim))


def backbone_network(model: ModelConfig, pre_trained: bool, input_size: int):
    """(module returning a feature map, its channel count) for model.name."""
    if model.name == "mobilenetv2":
        from thresher.models.mobilenet import mobilenet_v2

        # The feature layers only: the class's own forward averages over space already.
        return mobilenet_v2(pre_trained, input_size).features, 1280
    return resnet(_RESNET_BLOCKS[model.name], model.width)


def resnet(blocks: tuple[int, ...], width: float = 1.0):
    """A ResNet of basic blocks with the ImageNet stem; (module, output channels)."""
    nn = import_torch().nn
    channels = [max(1, round(c * width)) for c in (64, 128, 256, 512)]
    layers = [nn.Conv2d(3, channels[0], 7, 2, 3, bias=False), nn.BatchNorm2d(channels[0]), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
    previous = channels[0]
    for stage, (count, out) in enumerate(zip(blocks, channels)):
        for index in range(count):
            layers.append(_basic_block_class()(previous, out, 2 if stage > 0 and index == 0 else 1))
            previous = out
    return nn.Sequential(*layers), previous


@cache
def _basic_block_class():
    """The ResNet basic block class, made on first use so this module imports without torch."""
    nn = import_torch().nn

    class BasicBlock(nn.Module):
        """Two 3x3 convolutions with batch norm and a shortcut (1x1 convolution when the shape changes)."""

        def __init__(self, inp: int, out: int, stride: int) -> None:
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(inp, out, 3, stride, 1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(inplace=True),
                nn.Conv2d(out, out, 3, 1, 1, bias=False),
                nn.BatchNorm2d(out),
            )
            same = stride == 1 and inp == out
            self.shortcut = nn.Identity() if same else nn.Sequential(nn.Conv2d(inp, out, 1, stride, bias=False), nn.BatchNorm2d(out))

        def forward(self, x):
            return nn.functional.relu(self.body(x) + self.shortcut(x))

    return BasicBlock


def nt_xent_loss(z0, z1, temperature: float):
    """SimCLR's NT-Xent loss of two (B, D) projections, row i of z0 and z1 from the same image.

    Cosine similarities / temperature; for each of the 2B rows, cross-entropy of its positive
    against the other 2B - 2 rows; mean over the 2B rows (lightly's NTXentLoss without memory bank).
    """
    torch = import_torch()
    z = torch.nn.functional.normalize(torch.cat([z0, z1]), dim=1)
    logits = z @ z.T / temperature
    n = len(z0)
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return torch.nn.functional.cross_entropy(logits, targets)
