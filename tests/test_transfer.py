"""Transfer-learning helpers: freezing, frozen BatchNorm, per-layer learning rates, L2-SP."""

import copy

import pytest
import torch

from lessons_lib.models.resnet import ResNet
from lessons_lib.training.transfer import discriminative_groups, freeze, freeze_batchnorm, l2_sp, trainable_count

BLOCKS = [["conv1", "bn1"], "layer1", "layer2", "layer3", "layer4", "fc"]


def small_resnet(classes=5):
    torch.manual_seed(0)
    return ResNet(num_classes=classes, widths=(4, 8, 8, 8), in_channels=1, stem="small")


def test_freeze_leaves_only_the_head_trainable_and_says_what_is_missing():
    model = freeze(small_resnet(), trainable=("fc",))
    assert trainable_count(model) == 8 * 5 + 5
    assert all(not p.requires_grad for n, p in model.named_parameters() if not n.startswith("fc."))
    with pytest.raises(ValueError, match=r"freeze: trainable names \['head'\]"):
        freeze(small_resnet(), trainable=("head",))


def test_requires_grad_false_does_not_freeze_batchnorm_statistics_but_freeze_batchnorm_does():
    model = freeze(small_resnet(), trainable=("fc",)).train()
    before = model.bn1.running_mean.clone()
    model(torch.randn(4, 1, 8, 8) + 3)
    assert not torch.equal(model.bn1.running_mean, before), "frozen weights, but the running mean moved"
    model = freeze_batchnorm(freeze(small_resnet(), trainable=("fc",))).train()  # train() after: still frozen
    before = copy.deepcopy(model.state_dict())
    model(torch.randn(4, 1, 8, 8) + 3)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before if "running" in k or "num_batches" in k)


def test_discriminative_groups_follow_the_rule_and_cover_every_parameter():
    model = small_resnet()
    groups = discriminative_groups(model, BLOCKS, base_lr=1e-3, decay=0.5)
    assert [g["lr"] for g in groups] == pytest.approx([1e-3 * 0.5**k for k in (5, 4, 3, 2, 1, 0)])
    ids = [id(p) for g in groups for p in g["params"]]
    assert sorted(ids) == sorted(id(p) for p in model.parameters()) and len(ids) == len(set(ids))
    torch.optim.AdamW(groups)  # accepted as they are
    with pytest.raises(ValueError, match=r"2 trainable parameters are in no block.*\['bn1.weight', 'bn1.bias'\]"):
        discriminative_groups(model, ["conv1", *BLOCKS[1:]], 1e-3, 0.5)


def test_the_notes_param_groups_lose_parameters_and_ours_do_not():
    """The notes build groups from ``module.parameters()`` generators and then test them with ``any(...)``:
    that reads the first parameter of each generator, which the optimizer then never sees."""
    model = small_resnet()
    notes = [{"params": model.layer1.parameters(), "lr": 1e-5}, {"params": model.fc.parameters(), "lr": 1e-3}]
    kept = [g for g in notes if any(p.requires_grad for p in g["params"])]
    optimizer = torch.optim.AdamW(kept, weight_decay=1e-4)
    in_optimizer = sum(len(g["params"]) for g in optimizer.param_groups)
    assert in_optimizer == len(list(model.layer1.parameters())) + len(list(model.fc.parameters())) - 2
    ours = torch.optim.AdamW(discriminative_groups(model, BLOCKS, 1e-3, 0.5))
    assert sum(len(g["params"]) for g in ours.param_groups) == len(list(model.parameters()))


def test_l2_sp_is_the_squared_distance_to_the_start_and_skips_the_new_head():
    pretrained = small_resnet(classes=10)
    start = {k: v.clone() for k, v in pretrained.state_dict().items()}
    model = small_resnet(classes=5)
    model.load_state_dict({k: v for k, v in start.items() if not k.startswith("fc.")}, strict=False)
    assert l2_sp(model, start, alpha=0.1).item() == 0.0  # at the start, and fc's shapes differ
    with torch.no_grad():
        model.layer1[0].conv1.weight.add_(0.5)
    n = model.layer1[0].conv1.weight.numel()
    penalty = l2_sp(model, start, alpha=0.1)
    assert penalty.item() == pytest.approx(0.1 * n * 0.25)
    (grad,) = torch.autograd.grad(penalty, model.layer1[0].conv1.weight)
    torch.testing.assert_close(grad, torch.full_like(grad, 2 * 0.1 * 0.5))
