"""The Appendix D checkers: references pass, realistic wrong answers are rejected with the right diagnosis."""

import torch
import torch.nn.functional as F

from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.app_d import check_clip_loss, check_patchify, clip_loss_reference, patchify_reference

# ------------------------------------------------------------------------------------------ patchify


def unfold_patchify(images, patch):
    """Another correct answer: torch's unfold gives (N, C p p, P), channel first, patches row by row."""
    return F.unfold(images, kernel_size=patch, stride=patch).transpose(1, 2)


def test_patchify_correct_answers_pass():
    assert check_patchify(patchify_reference).status == PASSED
    assert check_patchify(unfold_patchify).passed
    assert check_patchify(lambda images, patch: unfold_patchify(images, patch).numpy()).passed


def test_patchify_without_permute_is_diagnosed():
    def wrong(images, patch):
        N, C, H, W = images.shape
        return images.reshape(N, (H // patch) * (W // patch), C * patch * patch)

    result = check_patchify(wrong)
    assert result.status == FAILED and "reshape alone" in result.message and "permute" in result.message


def test_patchify_channel_last_is_diagnosed():
    def wrong(images, patch):
        N, C, H, W = images.shape
        x = images.reshape(N, C, H // patch, patch, W // patch, patch).permute(0, 2, 4, 3, 5, 1)
        return x.reshape(N, -1, C * patch * patch)

    result = check_patchify(wrong)
    assert result.status == FAILED and "channel last" in result.message


def test_patchify_column_order_is_diagnosed():
    def wrong(images, patch):
        N, C, H, W = images.shape
        x = images.reshape(N, C, H // patch, patch, W // patch, patch).permute(0, 4, 2, 1, 3, 5)
        return x.reshape(N, -1, C * patch * patch)

    result = check_patchify(wrong)
    assert result.status == FAILED and "column by column" in result.message and "row by row" in result.message


def test_patchify_stub_and_crash():
    def stub(images, patch):
        raise NotImplementedError

    assert check_patchify(stub).status == NOT_ATTEMPTED
    assert check_patchify(lambda images, patch: images.reshape(-1, 7)).status == ERROR


# ------------------------------------------------------------------------------------------ CLIP loss


def torch_clip_loss(a, b, temperature):
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / temperature
    target = torch.arange(len(a))
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def test_clip_reference_equals_torch():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(7, 4, generator=gen, dtype=torch.float64), torch.randn(7, 4, generator=gen, dtype=torch.float64)
    assert torch.allclose(clip_loss_reference(a, b, 0.3), torch_clip_loss(a, b, 0.3), atol=1e-12)


def test_clip_correct_answers_pass():
    assert check_clip_loss(clip_loss_reference).status == PASSED
    assert check_clip_loss(torch_clip_loss).passed
    assert check_clip_loss(lambda a, b, temperature: torch_clip_loss(b, a, temperature)).passed   # symmetric
    assert check_clip_loss(lambda a, b, temperature: torch_clip_loss(a, b, temperature).item()).passed


def test_clip_one_direction_is_diagnosed():
    def wrong(a, b, temperature):
        logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / temperature
        return F.cross_entropy(logits, torch.arange(len(a)))

    result = check_clip_loss(wrong)
    assert result.status == FAILED and "one direction" in result.message


def test_clip_missing_normalisation_is_diagnosed():
    def wrong(a, b, temperature):
        logits = a @ b.T / temperature
        target = torch.arange(len(a))
        return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2

    result = check_clip_loss(wrong)
    assert result.status == FAILED and "L2 norm" in result.message


def test_clip_temperature_slips_are_diagnosed():
    def times(a, b, temperature):
        return torch_clip_loss(a, b, 1 / temperature)

    def without(a, b, temperature):
        return torch_clip_loss(a, b, 1.0)

    result = check_clip_loss(times)
    assert result.status == FAILED and "not multiplied" in result.message
    result = check_clip_loss(without)
    assert result.status == FAILED and "left out the temperature" in result.message


def test_clip_sum_and_addition_are_diagnosed():
    result = check_clip_loss(lambda a, b, temperature: torch_clip_loss(a, b, temperature) * len(a))
    assert result.status == FAILED and "do not sum" in result.message
    result = check_clip_loss(lambda a, b, temperature: 2 * torch_clip_loss(a, b, temperature))
    assert result.status == FAILED and "not added" in result.message


def test_clip_stub_is_not_attempted():
    def stub(a, b, temperature):
        raise NotImplementedError

    assert check_clip_loss(stub).status == NOT_ATTEMPTED
