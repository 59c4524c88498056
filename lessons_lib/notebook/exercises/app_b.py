"""Checkers for the exercises of Appendix B (generative adversarial networks).

- :func:`check_gan_losses`: the two players' losses from the discriminator's logits, ``(d_loss, g_loss)`` with
  ``d_loss = mean softplus(-a_real) + mean softplus(a_fake)`` (binary cross-entropy, real = 1, generated = 0) and
  the non-saturating ``g_loss = mean softplus(-a_fake) = -mean log D(G(z))``, finite for any logit.

The reference is :func:`lessons_lib.models.gan.discriminator_loss` / :func:`generator_loss`, tested against
``F.binary_cross_entropy_with_logits`` in ``tests/test_gan.py``. The hints recognise the usual slips by recomputing
them: ``log(sigmoid(a))`` that overflows to inf or nan at extreme logits, the saturating minimax term in place of
the non-saturating loss, the labels swapped, one mean over the concatenated batch, sums instead of means, the
generated term left out of ``d_loss``, and a flipped sign.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from lessons_lib.models.gan import discriminator_loss, generator_loss
from lessons_lib.notebook.checking import FAILED, PASSED, CheckResult, as_arrays, attempt, compare_parts, same_values

__all__ = ["check_gan_losses", "gan_losses_reference"]


def gan_losses_reference(real_logits, fake_logits):
    """``(d_loss, g_loss)``: the discriminator's loss and the non-saturating generator loss, from logits."""
    return discriminator_loss(real_logits, fake_logits), generator_loss(fake_logits)


def _cases():
    gen = torch.Generator().manual_seed(11)
    f64 = torch.float64
    cases = [
        (torch.tensor([2.0, -1.0, 0.5], dtype=f64), torch.tensor([-3.0, 0.0, 1.0], dtype=f64)),
        (3 * torch.randn(16, generator=gen, dtype=f64), 3 * torch.randn(16, generator=gen, dtype=f64) - 2),
        (torch.randn(10, generator=gen, dtype=f64) + 1, torch.randn(6, generator=gen, dtype=f64) - 1),  # unequal sizes
        (torch.tensor([-800.0, -40.0, 0.0, 35.0, 900.0], dtype=f64),                                  # extreme logits
         torch.tensor([-1000.0, -30.0, 0.0, 50.0, 700.0, 1e4], dtype=f64)),
    ]
    return [{"real_logits": r, "fake_logits": f} for r, f in cases]


def _describe(case):
    r, f = case["real_logits"], case["fake_logits"]
    def span(t):
        return f"{len(t)} logits in [{t.min().item():.4g}, {t.max().item():.4g}]"
    return f"real_logits: {span(r)}, fake_logits: {span(f)}"


def _slips(r, f):
    """What the usual wrong answers compute on this case: {name: (d_loss, g_loss)} (numbers)."""
    sp = F.softplus
    d, g = discriminator_loss(r, f).item(), generator_loss(f).item()
    both = torch.cat([r, f])
    labels = torch.cat([torch.ones_like(r), torch.zeros_like(f)])
    return {
        "saturating": (d, -sp(f).mean().item()),
        "swapped": (sp(r).mean().item() + sp(-f).mean().item(), sp(f).mean().item()),
        "concatenated": (F.binary_cross_entropy_with_logits(both, labels).item(), g),
        "sum": (sp(-r).sum().item() + sp(f).sum().item(), sp(-f).sum().item()),
        "real only": (sp(-r).mean().item(), g),
        "sign": (-d, -g),
    }


_SLIP_HINTS = {
    "saturating": "your g_loss is the minimax term E[log(1 - D(G(z)))] = -mean softplus(a_fake), the saturating loss; "
                  "the loss used in practice is the non-saturating -E[log D(G(z))] = mean softplus(-a_fake)",
    "swapped": "the labels are swapped: real rows have target 1 (loss softplus(-a)), generated rows target 0 "
               "(loss softplus(a)), and the generator wants its samples called real",
    "concatenated": "one mean over the concatenated batch weights each half by its size and halves the loss; "
                    "the objective is a sum of two expectations: mean over the real logits PLUS mean over the fake ones",
    "sum": "average over the batch (mean), not sum, so the loss does not grow with the batch size",
    "real only": "d_loss also needs the generated term, mean softplus(a_fake) = -E[log(1 - D(G(z)))]",
    "sign": "check the signs: each loss is a negative log-probability, so it is >= 0 and the players MINIMISE it",
}


def _hint(case, got):
    parts = as_arrays(got, 2)
    if parts is None:
        return None
    if not all(np.isfinite(p).all() for p in parts):
        return ("a logit of -800 makes sigmoid round to 0 and log(0) = -inf (and inf - inf = nan); compute "
                "log sigmoid(a) = -softplus(-a) and log(1 - sigmoid(a)) = -softplus(a) with F.softplus, or use "
                "F.binary_cross_entropy_with_logits")
    for slip, (d, g) in _slips(case["real_logits"], case["fake_logits"]).items():
        if same_values(parts[0], d, rtol=1e-6) and same_values(parts[1], g, rtol=1e-6):
            return _SLIP_HINTS[slip]
    return None


def check_gan_losses(fn):
    """Check ``fn(real_logits, fake_logits) -> (d_loss, g_loss)`` on 1-D float64 tensors of logits, extremes included."""
    name = "check_gan_losses"
    cases = _cases()
    compare_fn = compare_parts(["d_loss", "g_loss"], rtol=1e-8, atol=1e-10)
    for k, case in enumerate(cases, 1):
        where = _describe(case)
        expected = tuple(t.item() for t in gan_losses_reference(**{key: v.clone() for key, v in case.items()}))
        got, error = attempt(name, fn, **{key: v.clone() for key, v in case.items()}, where=where)
        if error:
            return error
        if torch.is_tensor(got) or isinstance(got, (float, int)):
            return CheckResult(name, FAILED, "got a single value; return the pair (d_loss, g_loss)")
        problem = compare_fn(got, expected)
        if problem:
            message = f"fails for {where}, case {k} of {len(cases)}: {problem}"
            hint = _hint(case, got)
            if hint:
                message += f". Hint: {hint}"
            return CheckResult(name, FAILED, message)
    return CheckResult(name, PASSED, f"all {len(cases)} checks passed, extreme logits included")
