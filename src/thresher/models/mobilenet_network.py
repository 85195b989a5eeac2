"""The MobileNetV2 feature network (torch extra), laid out as the ImageNet weights expect.

MobileNetV2 (Sandler et al. 2018, width 1.0): a 3x3 stride-2 convolution to 32 channels,
17 inverted residual blocks, a 1x1 convolution to 1280 channels, each convolution followed by
batch norm and ReLU6 except the blocks' linear projections. The parameter names
(`features.<i>.<j>...`, `features.<i>.conv.<j>...`) are those of the weights file that
`thresher.models.weights` finds, so `load_state_dict` takes it as it is. The forward averages
the 1280-channel map over space: (N, 3, H, W) -> (N, 1280).
"""

from __future__ import annotations

import math
from functools import cache

from thresher.models.torch_embedder import import_torch

# (expansion t, output channels c, repeats n, first stride s) of each stage, as in the paper.
STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))
STEM_CHANNELS = 32
LAST_CHANNELS = 1280


def mobilenet_v2_network():
    """A MobileNetV2 feature network with He-normal convolutions (torch's global generator).

    >>> mobilenet_v2_network()(torch.zeros(1, 3, 224, 224)).shape  # doctest: +SKIP
    torch.Size([1, 1280])
    """
    nn = import_torch().nn
    layers = [_conv_bn_relu(3, STEM_CHANNELS, 3, 2)]
    channels = STEM_CHANNELS
    block = _inverted_residual_class()
    for expansion, out, repeats, stride in STAGES:
        for index in range(repeats):
            layers.append(block(channels, out, stride if index == 0 else 1, expansion))
            channels = out
    layers.append(_conv_bn_relu(channels, LAST_CHANNELS, 1, 1))
    network = _feature_network_class()(nn.Sequential(*layers))
    _initialize(network)
    return network


def _conv_bn_relu(inp: int, out: int, kernel: int, stride: int, groups: int = 1):
    nn = import_torch().nn
    return nn.Sequential(nn.Conv2d(inp, out, kernel, stride, kernel // 2, groups=groups, bias=False), nn.BatchNorm2d(out), nn.ReLU6(inplace=True))


def _initialize(network) -> None:
    """Convolutions He-normal (std sqrt(2 / (k * k * out))), batch norms the identity."""
    nn = import_torch().nn
    for module in network.modules():
        if isinstance(module, nn.Conv2d):
            fan_out = module.kernel_size[0] * module.kernel_size[1] * module.out_channels
            module.weight.data.normal_(0, math.sqrt(2.0 / fan_out))
        elif isinstance(module, nn.BatchNorm2d):
            module.weight.data.fill_(1)
            module.bias.data.zero_()


@cache
def _inverted_residual_class():
    """The inverted residual block class, made on first use so this module imports without torch."""
    nn = import_torch().nn

    class InvertedResidual(nn.Module):
        """1x1 expansion (when t > 1), 3x3 depthwise, linear 1x1 projection; shortcut when shapes match."""

        def __init__(self, inp: int, out: int, stride: int, expansion: int) -> None:
            super().__init__()
            hidden = round(inp * expansion)
            self.use_shortcut = stride == 1 and inp == out
            expand = list(_conv_bn_relu(inp, hidden, 1, 1)) if expansion != 1 else []
            depthwise = list(_conv_bn_relu(hidden, hidden, 3, stride, groups=hidden))
            project = [nn.Conv2d(hidden, out, 1, 1, 0, bias=False), nn.BatchNorm2d(out)]
            self.conv = nn.Sequential(*expand, *depthwise, *project)

        def forward(self, x):
            return x + self.conv(x) if self.use_shortcut else self.conv(x)

    return InvertedResidual


@cache
def _feature_network_class():
    nn = import_torch().nn

    class MobileNetV2Features(nn.Module):
        """`features` (the convolutional layers), then the mean over space."""

        def __init__(self, features) -> None:
            super().__init__()
            self.features = features

        def forward(self, x):
            return self.features(x).mean(dim=(2, 3))

    return MobileNetV2Features
