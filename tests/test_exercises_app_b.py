"""The Appendix B checker: the reference passes, realistic wrong answers are rejected with the right hint."""

import torch
import torch.nn.functional as F

from lessons_lib.notebook.checking import ERROR, FAILED, NOT_ATTEMPTED, PASSED
from lessons_lib.notebook.exercises.app_b import check_gan_losses, gan_losses_reference

sp = F.softplus


def test_correct_answers_pass():
    assert check_gan_losses(gan_losses_reference).status == PASSED

    def with_bce(real_logits, fake_logits):
        bce = F.binary_cross_entropy_with_logits
        d = bce(real_logits, torch.ones_like(real_logits)) + bce(fake_logits, torch.zeros_like(fake_logits))
        return d, bce(fake_logits, torch.ones_like(fake_logits))

    def with_logsigmoid(real_logits, fake_logits):
        ls = F.logsigmoid
        return -(ls(real_logits).mean() + ls(-fake_logits).mean()), -ls(fake_logits).mean()

    assert check_gan_losses(with_bce).passed
    assert check_gan_losses(with_logsigmoid).passed


def test_naive_log_of_sigmoid_is_caught_at_extreme_logits():
    def naive(real_logits, fake_logits):
        d_real, d_fake = torch.sigmoid(real_logits), torch.sigmoid(fake_logits)
        return -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean()), -torch.log(d_fake).mean()

    result = check_gan_losses(naive)
    assert result.status == FAILED and "case 4 of 4" in result.message
    assert "softplus" in result.message and "-inf" in result.message


def test_saturating_generator_loss_is_diagnosed():
    result = check_gan_losses(lambda real_logits, fake_logits: (sp(-real_logits).mean() + sp(fake_logits).mean(),
                                                                -sp(fake_logits).mean()))
    assert result.status == FAILED and "g_loss is wrong" in result.message and "non-saturating" in result.message


def test_swapped_labels_are_diagnosed():
    result = check_gan_losses(lambda real_logits, fake_logits: (sp(real_logits).mean() + sp(-fake_logits).mean(),
                                                                sp(fake_logits).mean()))
    assert result.status == FAILED and "labels are swapped" in result.message


def test_one_mean_over_the_concatenation_is_diagnosed():
    def concatenated(real_logits, fake_logits):
        both = torch.cat([real_logits, fake_logits])
        labels = torch.cat([torch.ones_like(real_logits), torch.zeros_like(fake_logits)])
        return F.binary_cross_entropy_with_logits(both, labels), sp(-fake_logits).mean()

    result = check_gan_losses(concatenated)
    assert result.status == FAILED and "d_loss is wrong" in result.message and "PLUS" in result.message


def test_sums_missing_term_and_sign_are_diagnosed():
    result = check_gan_losses(lambda real_logits, fake_logits: (sp(-real_logits).sum() + sp(fake_logits).sum(),
                                                                sp(-fake_logits).sum()))
    assert result.status == FAILED and "mean), not sum" in result.message
    result = check_gan_losses(lambda real_logits, fake_logits: (sp(-real_logits).mean(), sp(-fake_logits).mean()))
    assert result.status == FAILED and "needs the generated term" in result.message
    result = check_gan_losses(lambda real_logits, fake_logits: tuple(-v for v in gan_losses_reference(real_logits,
                                                                                                      fake_logits)))
    assert result.status == FAILED and "signs" in result.message


def test_wrong_return_values_and_stubs_are_reported():
    result = check_gan_losses(lambda real_logits, fake_logits: gan_losses_reference(real_logits, fake_logits)[0])
    assert result.status == FAILED and "pair (d_loss, g_loss)" in result.message

    def stub(real_logits, fake_logits):
        raise NotImplementedError

    assert check_gan_losses(stub).status == NOT_ATTEMPTED
    result = check_gan_losses(lambda real_logits, fake_logits: (real_logits @ torch.ones(2, dtype=torch.float64), 0.0))
    assert result.status == ERROR and "RuntimeError" in result.message
