"""Checkers for the exercises of Appendix D (vision transformers and multimodal models).

- :func:`check_patchify`: cut a batch of images (N, C, H, W), a torch tensor, into flattened non-overlapping
  p x p patches, ``fn(images, patch) -> (N, (H/p)(W/p), C*p*p)``, patches in row-major order, each flattened
  channel first, then row, then column (the layout of a ``Conv2d`` weight). The reference is
  :func:`lessons_lib.models.transformer.patchify`.
- :func:`check_clip_loss`: CLIP's symmetric contrastive loss, ``fn(a, b, temperature) -> scalar`` for two (N, D)
  torch tensors of paired embeddings. The reference is :func:`lessons_lib.functional.losses.contrastive_loss`.

The hints recognise the usual slips by recomputing them: for patchify, a reshape without the permute (pixels of
one patch scattered over several rows), the patch's pixels flattened channel last, the patches listed column by
column; for the loss, one direction only, no L2 normalisation, the temperature multiplied instead of divided or
left out, and a sum over the batch instead of a mean.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lessons_lib.functional.losses import contrastive_loss
from lessons_lib.models.transformer import patchify
from lessons_lib.notebook.checking import CheckResult, compare, same_values

__all__ = ["check_clip_loss", "check_patchify", "clip_loss_reference", "patchify_reference"]


def _result(name, fn, cases, reference, describe, hints, rtol=1e-6, atol=1e-9) -> CheckResult:
    return compare(fn, reference, cases, name=name, describe=describe, hints=hints, numbered=True,
                   compare_fn=lambda got, expected: _difference(got, expected, rtol, atol))


def _difference(got, expected, rtol, atol) -> str | None:
    if not torch.is_tensor(got):
        try:
            got = torch.as_tensor(got, dtype=expected.dtype)
        except (TypeError, ValueError, RuntimeError):
            return f"got a {type(got).__name__}, expected a tensor of shape {tuple(expected.shape)}"
    got = got.detach().to("cpu", expected.dtype)
    expected = expected.detach().cpu()
    if tuple(got.shape) != tuple(expected.shape):
        return f"got shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
    if torch.isnan(got).any():
        return "the result contains nan"
    if not torch.allclose(got, expected, rtol=rtol, atol=atol):
        if got.numel() == 1:
            return f"got {got.item():.6g}, expected {expected.item():.6g}"
        return f"worst entry off by {(got - expected).abs().max().item():.3g}"
    return None


# ------------------------------------------------------------------------------------------ patchify


def patchify_reference(images, patch):
    """(N, C, H, W) -> (N, (H/p)(W/p), C p p): the library's :func:`patchify`."""
    return patchify(images, patch)


def _patch_cases():
    gen = torch.Generator().manual_seed(16)
    sizes = [(2, 1, 8, 8, 2), (1, 1, 8, 8, 4), (3, 3, 6, 6, 3), (2, 2, 4, 8, 2), (1, 3, 8, 4, 4), (2, 1, 5, 5, 1)]
    return [{"images": torch.randn(n, c, h, w, generator=gen, dtype=torch.float64), "patch": p}
            for n, c, h, w, p in sizes]


def _describe_images(case) -> str:
    n, c, h, w = case["images"].shape
    return f"images of shape ({n}, {c}, {h}, {w}) and patch = {case['patch']}"


def _patch_variant(images, patch, *, kind):
    N, C, H, W = images.shape
    p = patch
    if kind == "no_permute":          # cut the flat pixel list into pieces of C p p: rows of the image, not squares
        return images.reshape(N, (H // p) * (W // p), C * p * p)
    x = images.reshape(N, C, H // p, p, W // p, p)
    if kind == "channel_last":        # (rows, cols, p, p, C): each patch flattened with the channel last
        return x.permute(0, 2, 4, 3, 5, 1).reshape(N, -1, C * p * p)
    if kind == "column_major":        # patches listed column by column
        return x.permute(0, 4, 2, 1, 3, 5).reshape(N, -1, C * p * p)
    if kind == "transposed_patch":    # pixels of a patch read column by column
        return x.permute(0, 2, 4, 1, 5, 3).reshape(N, -1, C * p * p)
    raise ValueError(kind)


def _patch_hints():
    def matches(case, got, kind):
        return same_values(got, _patch_variant(case["images"], case["patch"], kind=kind))

    def no_permute(case, got, expected):
        if matches(case, got, "no_permute"):
            return ("a reshape alone cuts the image's flat pixel list into consecutive pieces, so a 'patch' is a run of "
                    "pixels along a row, not a p x p square: reshape to (N, C, H/p, p, W/p, p), permute the axes to "
                    "(N, H/p, W/p, C, p, p), then flatten")

    def channel_last(case, got, expected):
        if case["images"].shape[1] > 1 and matches(case, got, "channel_last"):
            return ("your patches hold the right pixels but flattened channel last (p, p, C); flatten them channel "
                    "first, (C, p, p), the order of a Conv2d weight, so that a Linear and a strided Conv2d agree")

    def column_major(case, got, expected):
        if matches(case, got, "column_major"):
            return ("your patches are listed column by column; list them row by row (left to right, then top to "
                    "bottom), the order in which a convolution's output map is flattened")

    def transposed(case, got, expected):
        if matches(case, got, "transposed_patch"):
            return "the pixels inside each patch are read column by column; read them row by row (row, then column)"

    return [no_permute, channel_last, column_major, transposed]


def check_patchify(fn):
    """Check ``fn(images, patch) -> (N, P, C*p*p)`` against :func:`lessons_lib.models.transformer.patchify`."""
    return _result("check_patchify", fn, _patch_cases(), patchify_reference, _describe_images, _patch_hints())


# ------------------------------------------------------------------------------------------ CLIP loss


def clip_loss_reference(a, b, temperature):
    """The symmetric InfoNCE loss of two (N, D) batches of paired embeddings: the library's contrastive_loss."""
    return contrastive_loss(a, b, temperature)


def _clip_cases():
    gen = torch.Generator().manual_seed(2021)
    cases = []
    for n, d, t, scale in [(4, 3, 0.1, 1.0), (6, 5, 0.07, 3.0), (3, 8, 1.0, 0.5), (8, 4, 0.5, 10.0), (5, 2, 0.2, 1.0)]:
        a = torch.randn(n, d, generator=gen, dtype=torch.float64) * scale
        b = a + torch.randn(n, d, generator=gen, dtype=torch.float64) * scale      # related, as after some training
        cases.append({"a": a, "b": b, "temperature": t})
    return cases


def _describe_pairs(case) -> str:
    n, d = case["a"].shape
    return f"N = {n} pairs of D = {d} dimensions, temperature = {case['temperature']} (random embeddings)"


def _clip_variant(a, b, temperature, *, kind):
    target = torch.arange(a.shape[0])
    a_hat, b_hat = (F.normalize(a, dim=1), F.normalize(b, dim=1)) if kind != "no_norm" else (a, b)
    scale = {"times": temperature ** 2, "no_temperature": temperature}.get(kind, 1.0)
    logits = a_hat @ b_hat.T / temperature * scale      # "times": S * T; "no_temperature": cosines alone
    if kind == "one_way":
        return F.cross_entropy(logits, target)
    if kind == "other_way":
        return F.cross_entropy(logits.T, target)
    if kind == "sum":
        return (F.cross_entropy(logits, target, reduction="sum") + F.cross_entropy(logits.T, target, reduction="sum")) / 2
    if kind == "no_half":
        return F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def _clip_hints():
    def matches(case, got, kind):
        return same_values(got, _clip_variant(case["a"], case["b"], case["temperature"], kind=kind))

    def one_way(case, got, expected):
        if matches(case, got, "one_way") or matches(case, got, "other_way"):
            return ("that is one direction only; CLIP averages the cross-entropy over the rows of the similarity "
                    "matrix (a -> b) and over its columns (b -> a)")

    def no_norm(case, got, expected):
        if matches(case, got, "no_norm"):
            return "divide each embedding by its L2 norm first (F.normalize(x, dim=1)), so that a @ b.T holds cosines"

    def temperature(case, got, expected):
        if matches(case, got, "times"):
            return "the cosines are divided by the temperature, not multiplied: a small temperature sharpens the softmax"
        if matches(case, got, "no_temperature"):
            return "you left out the temperature: the logits are cos(a_i, b_j) / temperature"

    def reduction(case, got, expected):
        if matches(case, got, "sum"):
            return "average the cross-entropy over the N pairs (F.cross_entropy's default), do not sum it"
        if matches(case, got, "no_half"):
            return "the two directions are averaged: (loss_ab + loss_ba) / 2, not added"

    return [one_way, no_norm, temperature, reduction]


def check_clip_loss(fn):
    """Check ``fn(a, b, temperature) -> scalar`` against :func:`lessons_lib.functional.losses.contrastive_loss`."""
    return _result("check_clip_loss", fn, _clip_cases(), clip_loss_reference, _describe_pairs, _clip_hints())
