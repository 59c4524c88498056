"""Residual networks (He et al., 2016) with torchvision's module names, so its weights load unchanged.

``resnet18()`` has torchvision's exact ``state_dict`` keys, shapes and 11,689,512 parameters at 1,000 classes:
a reader who has downloaded ``resnet18-f37072fd.pth`` (torchvision's ImageNet weights) can
``model.load_state_dict(torch.load(path, weights_only=True))``. torchvision itself is not needed.
"""

from __future__ import annotations

from torch import nn

__all__ = ["BasicBlock", "ResNet", "resnet18", "resnet34"]


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with BatchNorm, and the input added back: out = relu(F(x) + shortcut(x)).

    The shortcut is the identity, or, when the block changes the size or the channel count, a 1x1
    convolution with the block's stride and a BatchNorm (torchvision's ``downsample``). With
    ``shortcut=False`` nothing is added back: the same two convolutions as a plain block, for comparing a
    deep plain network with a residual one (the degradation problem)."""

    expansion = 1

    def __init__(self, in_channels: int, channels: int, stride: int = 1, shortcut: bool = True):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample, self.shortcut = None, shortcut
        if shortcut and (stride != 1 or in_channels != channels):
            self.downsample = nn.Sequential(nn.Conv2d(in_channels, channels, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(channels))
        self.stride = stride

    def forward(self, x):  # (N, C_in, H, W) -> (N, C, H / stride, W / stride)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if not self.shortcut:
            return self.relu(out)
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    """A stem, four stages of residual blocks (each after the first halves the size and doubles the
    channels), global average pooling and a linear classifier.

    blocks: blocks per stage ([2, 2, 2, 2] is ResNet-18); widths: channels per stage;
    stem: "imagenet" (7x7 convolution, stride 2, then 3x3 max pooling: 224 -> 56) or "small" (one 3x3
    convolution, no pooling, for 8x8 to 32x32 images; the keys stay the same, conv1's shape changes);
    shortcut: False builds the same network without its residual connections (a "plain" network).
    """

    def __init__(self, blocks=(2, 2, 2, 2), num_classes: int = 1000, widths=(64, 128, 256, 512),
                 in_channels: int = 3, stem: str = "imagenet", shortcut: bool = True):
        super().__init__()
        if stem not in ("imagenet", "small"):
            raise ValueError(f"ResNet: stem is {stem!r}; expected 'imagenet' or 'small'")
        if len(blocks) != 4 or len(widths) != 4:
            raise ValueError(f"ResNet: blocks {tuple(blocks)} and widths {tuple(widths)} need four stages each")
        w0 = widths[0]
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, w0, kernel_size=7, stride=2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        else:
            self.conv1 = nn.Conv2d(in_channels, w0, kernel_size=3, stride=1, padding=1, bias=False)
            self.maxpool = nn.Identity()
        self.bn1 = nn.BatchNorm2d(w0)
        self.relu = nn.ReLU(inplace=True)
        channels = w0
        for i, (n, width) in enumerate(zip(blocks, widths), start=1):
            stage = []
            for j in range(n):
                stage.append(BasicBlock(channels, width, stride=2 if (j == 0 and i > 1) else 1, shortcut=shortcut))
                channels = width
            setattr(self, f"layer{i}", nn.Sequential(*stage))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(channels, num_classes)
        for m in self.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def features(self, x):  # (N, 3, H, W) -> (N, 512): everything but the classifier
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.avgpool(x).flatten(1)

    def forward(self, x):
        return self.fc(self.features(x))


def resnet18(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-18: [2, 2, 2, 2] basic blocks; 11,689,512 parameters at 1,000 classes, torchvision's keys."""
    return ResNet((2, 2, 2, 2), num_classes=num_classes, **kwargs)


def resnet34(num_classes: int = 1000, **kwargs) -> ResNet:
    """ResNet-34: [3, 4, 6, 3] basic blocks; 21,797,672 parameters at 1,000 classes."""
    return ResNet((3, 4, 6, 3), num_classes=num_classes, **kwargs)
