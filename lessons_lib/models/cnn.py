"""The convolutional networks of Part III, as ``nn.Module``s (chapters 17-21).

Each class builds exactly the network its chapter describes; the chapter asserts the parameter count.
Shapes are written as comments, batch first: ``(N, C, H, W)`` for images, ``(N, C, L)`` for 1-D signals.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["CifarCNN", "DepthwiseSeparable", "LeNet5", "MNIST1DConvBase", "MNIST1DMLP", "mult_adds", "separable_cost"]


class LeNet5(nn.Sequential):
    """LeNet-5 (LeCun et al., 1998) in the form most courses use (Dive into Deep Learning's): 28x28 inputs padded
    by 2 to the original 32x32, sigmoid activations, average pooling. 61,706 parameters at 10 classes."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1):
        super().__init__(
            nn.Conv2d(in_channels, 6, kernel_size=5, padding=2), nn.Sigmoid(),  # (N, 6, 28, 28)
            nn.AvgPool2d(kernel_size=2, stride=2),                             # (N, 6, 14, 14)
            nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),                     # (N, 16, 10, 10)
            nn.AvgPool2d(kernel_size=2, stride=2),                             # (N, 16, 5, 5)
            nn.Flatten(),                                                      # (N, 400)
            nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
            nn.Linear(120, 84), nn.Sigmoid(),
            nn.Linear(84, num_classes),
        )


class CifarCNN(nn.Module):
    """The source notes' CIFAR-10 network for 32x32 RGB images: two convolutions, then three dense layers.

    1,974,922 parameters at 10 classes, 19,392 of them (1%) in the convolutions: the first dense layer
    (3,136 inputs to 600 units) holds 95% of the network.
    """

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=3, padding="same"), nn.ReLU(),  # (N, 32, 32, 32)
            nn.MaxPool2d(kernel_size=2, stride=2),                       # (N, 32, 16, 16)
            nn.Conv2d(32, 64, kernel_size=3), nn.ReLU(),                 # (N, 64, 14, 14): no padding, 16 - 3 + 1
            nn.MaxPool2d(kernel_size=2, stride=2),                       # (N, 64, 7, 7)
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),                                                # (N, 3136)
            nn.Linear(64 * 7 * 7, 600), nn.ReLU(),
            nn.Linear(600, 120), nn.ReLU(),
            nn.Linear(120, num_classes),
        )

    def forward(self, x):  # (N, 3, 32, 32) -> (N, num_classes)
        return self.classifier(self.features(x))


class MNIST1DConvBase(nn.Module):
    """The convolutional baseline of MNIST-1D (Greydanus, 2020; the repo's ``ConvBase``): three strided 1-D
    convolutions and a linear read-out, 5,210 parameters for signals of length 40."""

    def __init__(self, channels: int = 25, num_classes: int = 10, length: int = 40):
        super().__init__()
        self.conv1 = nn.Conv1d(1, channels, kernel_size=5, stride=2, padding=1)         # (N, 25, 19)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size=3, stride=2, padding=1)  # (N, 25, 10)
        self.conv3 = nn.Conv1d(channels, channels, kernel_size=3, stride=2, padding=1)  # (N, 25, 5)
        out = length
        for conv in (self.conv1, self.conv2, self.conv3):
            out = (out + 2 * conv.padding[0] - conv.kernel_size[0]) // conv.stride[0] + 1
        self.linear = nn.Linear(channels * out, num_classes)                            # 125 -> 10
        self.relu = nn.ReLU()

    def forward(self, x):  # (N, L) or (N, 1, L) -> (N, num_classes)
        x = x.reshape(x.shape[0], 1, x.shape[-1])
        for conv in (self.conv1, self.conv2, self.conv3):
            x = self.relu(conv(x))
        return self.linear(x.flatten(1))


class MNIST1DMLP(nn.Module):
    """MNIST-1D's MLP baseline (the mnist1d repository's MLPBase), kept beside its ConvBase so the two can be
    compared: 40 -> 100 -> 100 -> 10 with ReLUs, the second hidden layer residual, h + ReLU(W2 h + b2).
    15,210 parameters; the paper reports 68% test accuracy."""

    def __init__(self, hidden: int = 100):
        super().__init__()
        self.linear1, self.linear2, self.linear3 = nn.Linear(40, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, 10)

    def forward(self, x):                      # x (N, 40)
        h = self.linear1(x).relu()             # (N, hidden)
        h = h + self.linear2(h).relu()         # the residual second layer
        return self.linear3(h)                 # (N, 10)


class DepthwiseSeparable(nn.Sequential):
    """MobileNet's block (Howard et al., 2017): a depthwise k x k convolution (one filter per channel,
    ``groups=in_channels``) then a pointwise 1x1 convolution that mixes channels, each followed by BatchNorm
    and ReLU. It replaces one k x k convolution; :func:`separable_cost` counts what that saves."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1):
        super().__init__(
            nn.Conv2d(in_channels, in_channels, kernel_size, stride=stride, padding=kernel_size // 2,
                      groups=in_channels, bias=False),
            nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True),
            nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True),
        )


def separable_cost(in_channels: int, out_channels: int, kernel_size: int, out_h: int, out_w: int) -> dict:
    """Weights and multiply-adds of a standard k x k convolution and of its depthwise-separable
    replacement (biases and BatchNorm aside), for an output of out_h x out_w pixels.

    standard:  k^2 * C_in * C_out weights;  separable: k^2 * C_in + C_in * C_out.
    Their ratio is 1/C_out + 1/k^2, e.g. about 1/8.7 for a 3x3 layer with 256 output channels.
    """
    k2, pixels = kernel_size * kernel_size, out_h * out_w
    standard = k2 * in_channels * out_channels
    separable = k2 * in_channels + in_channels * out_channels
    return {"standard_weights": standard, "separable_weights": separable,
            "standard_mult_adds": standard * pixels, "separable_mult_adds": separable * pixels,
            "ratio": separable / standard}


def mult_adds(model: nn.Module, input_shape) -> int:
    """Multiply-adds of every ``Conv2d``, ``Conv1d`` and ``Linear`` layer of ``model`` for ONE input of shape
    ``input_shape`` (e.g. (C, H, W)), read from the output shapes that forward hooks see: one per weight per
    output value, biases left out (the convention of the ResNet and MobileNet papers and of torchvision's
    tables; BatchNorm and activations are not counted). Works on the meta device, where nothing is computed."""
    total = []

    def hook(module, inputs, out):
        per_output = module.weight.numel() // module.weight.shape[0]    # weights feeding one output value
        total.append(per_output * out[0].numel())

    layers = [m for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))]
    handles = [m.register_forward_hook(hook) for m in layers]
    try:
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=next(model.parameters()).device))
    finally:
        for h in handles:
            h.remove()
    return sum(total)
