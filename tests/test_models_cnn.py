"""Part III's models: parameter counts, shapes, and resnet18's torchvision layout."""

import pytest
import torch
from torch import nn

from lessons_lib.models.cnn import CifarCNN, DepthwiseSeparable, LeNet5, MNIST1DConvBase, separable_cost
from lessons_lib.models.resnet import ResNet, resnet18, resnet34


def count(model):
    return sum(p.numel() for p in model.parameters())


def torchvision_resnet18_keys():
    """torchvision's resnet18().state_dict() keys, in order, written out from its structure."""
    bn = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    keys = ["conv1.weight"] + [f"bn1.{k}" for k in bn]
    for stage in range(1, 5):
        for block in range(2):
            p = f"layer{stage}.{block}."
            keys += [p + "conv1.weight"] + [p + f"bn1.{k}" for k in bn] + [p + "conv2.weight"] + [p + f"bn2.{k}" for k in bn]
            if stage > 1 and block == 0:
                keys += [p + "downsample.0.weight"] + [p + f"downsample.1.{k}" for k in bn]
    return keys + ["fc.weight", "fc.bias"]


def test_resnet18_has_torchvisions_keys_shapes_and_parameter_count():
    model = resnet18()
    state = model.state_dict()
    assert list(state) == torchvision_resnet18_keys() and len(state) == 122
    assert count(model) == 11_689_512
    shapes = {"conv1.weight": (64, 3, 7, 7), "layer2.0.downsample.0.weight": (128, 64, 1, 1),
              "layer4.1.conv2.weight": (512, 512, 3, 3), "fc.weight": (1000, 512), "fc.bias": (1000,)}
    for key, shape in shapes.items():
        assert tuple(state[key].shape) == shape, key
    assert model(torch.zeros(1, 3, 224, 224)).shape == (1, 1000)
    assert count(resnet34()) == 21_797_672


def test_resnet18_loads_a_saved_state_dict_with_weights_only(tmp_path):
    torch.manual_seed(0)
    source, target = resnet18(num_classes=5).eval(), resnet18(num_classes=5).eval()
    path = tmp_path / "resnet18.pth"
    torch.save(source.state_dict(), path)
    target.load_state_dict(torch.load(path, weights_only=True))  # strict: every key and shape must match
    x = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(target(x), source(x))


def test_small_stem_keeps_the_keys_and_reads_small_images():
    small = ResNet(num_classes=10, widths=(16, 32, 64, 128), in_channels=1, stem="small")
    assert [k for k in small.state_dict()] == torchvision_resnet18_keys()
    assert small(torch.zeros(3, 1, 8, 8)).shape == (3, 10)
    with pytest.raises(ValueError, match="ResNet: stem is 'tiny'; expected 'imagenet' or 'small'"):
        ResNet(stem="tiny")


@pytest.mark.parametrize("model, x, params", [
    (LeNet5(), torch.zeros(2, 1, 28, 28), 61_706),
    (CifarCNN(), torch.zeros(2, 3, 32, 32), 1_974_922),
    (MNIST1DConvBase(), torch.zeros(2, 40), 5_210),
])
def test_parameter_counts_and_output_shapes(model, x, params):
    assert count(model) == params
    assert model(x).shape == (2, 10)


def test_cifar_cnn_keeps_few_parameters_in_its_convolutions():
    model = CifarCNN()
    conv = count(model.features)
    assert conv == (3 * 9 * 32 + 32) + (32 * 9 * 64 + 64) == 19_392
    assert conv / count(model) < 0.01 + 1e-9


def test_depthwise_separable_block_and_its_savings():
    block = DepthwiseSeparable(32, 64)
    depthwise, pointwise = block[0], block[3]
    assert depthwise.groups == 32 and depthwise.weight.shape == (32, 1, 3, 3) and pointwise.weight.shape == (64, 32, 1, 1)
    cost = separable_cost(32, 64, 3, 16, 16)
    conv_weights = depthwise.weight.numel() + pointwise.weight.numel()
    assert cost["separable_weights"] == conv_weights == 3 * 3 * 32 + 32 * 64
    assert cost["standard_weights"] == torch.nn.Conv2d(32, 64, 3, bias=False).weight.numel()
    assert cost["ratio"] == pytest.approx(1 / 64 + 1 / 9)
    assert 1 / separable_cost(256, 256, 3, 1, 1)["ratio"] == pytest.approx(8.69, abs=0.01)  # the docstring's example
    assert cost["separable_mult_adds"] == conv_weights * 256
    assert block(torch.zeros(2, 32, 16, 16)).shape == (2, 64, 16, 16)


def test_a_plain_network_is_the_resnet_without_its_shortcuts():
    residual = ResNet(num_classes=10, widths=(8, 16, 32, 64), in_channels=1, stem="small")
    plain = ResNet(num_classes=10, widths=(8, 16, 32, 64), in_channels=1, stem="small", shortcut=False)
    extra = {k for k in residual.state_dict()} - {k for k in plain.state_dict()}
    assert extra and all(".downsample." in k for k in extra)  # only the projection shortcuts differ
    assert not {k for k in plain.state_dict()} - {k for k in residual.state_dict()}
    # with every convolution weight zero, a block's output is its shortcut: relu(x) with one, 0 without
    block = residual.layer1[0].eval()
    plain_block = plain.layer1[0].eval()
    for b in (block, plain_block):
        torch.nn.init.zeros_(b.conv1.weight)
        torch.nn.init.zeros_(b.conv2.weight)
    x = torch.randn(2, 8, 5, 5)
    torch.testing.assert_close(block(x), torch.relu(x))
    torch.testing.assert_close(plain_block(x), torch.zeros_like(x))
    assert plain(torch.zeros(2, 1, 8, 8)).shape == (2, 10)


def test_mult_adds_counts_one_per_weight_per_output_value():
    from lessons_lib.models.cnn import mult_adds
    from lessons_lib.models.resnet import resnet18

    conv = nn.Conv2d(3, 8, 3, padding=1, groups=1)
    assert mult_adds(conv, (3, 10, 10)) == 3 * 3 * 3 * 8 * 10 * 10
    grouped = nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=4)          # 2 input channels per filter
    assert mult_adds(grouped, (8, 10, 10)) == 2 * 9 * 8 * 5 * 5
    assert mult_adds(nn.Conv1d(1, 25, 5, stride=2, padding=1), (1, 40)) == 5 * 25 * 19
    assert mult_adds(nn.Sequential(nn.Flatten(), nn.Linear(20, 5)), (4, 5)) == 100
    with torch.device("meta"):
        model = resnet18()
    assert mult_adds(model, (3, 224, 224)) == 1_814_073_344   # torchvision documents 1.81 GFLOPS


def test_mnist1d_mlp_is_the_repositorys_mlpbase():
    from lessons_lib.models.cnn import MNIST1DMLP

    model = MNIST1DMLP()
    assert sum(p.numel() for p in model.parameters()) == 15_210
    x = torch.randn(3, 40)
    h = model.linear1(x).relu()
    torch.testing.assert_close(model(x), model.linear3(h + model.linear2(h).relu()))
