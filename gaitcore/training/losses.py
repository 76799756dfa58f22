"""Batch-all triplet loss per HPM part (GaitSet Sec. 3.5 and 4.1; AbnerHqC/GaitSet ``triplet.py``).

GaitSet trains every one of its 62 part features with its own triplet loss, margin 0.2, and uses
the "full" (batch-all) variant: every (anchor, positive, negative) triplet of the batch
contributes ``relu(margin + d(a, p) - d(a, n))``, the sum is divided by the number of *non-zero*
terms (the triplets still violating the margin), and the loss is the mean of that over the parts.
Distances are Euclidean, computed as ``sqrt(relu(|a|^2 + |b|^2 - 2 a.b))`` like the original.

One deliberate difference: the original counts every sample as its own positive (``d(a, a) = 0``);
here an anchor's positives are the *other* samples of its subject. The ``d(a, a)`` terms only add
"push every negative beyond the margin" copies, and their distance is a rounding residue whose
square root has an unbounded gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class TripletStats:
    """Loss of one batch and the quantities GaitSet logs with it."""

    loss: Tensor  # scalar, differentiable
    active_triplets: float  # non-zero triplet terms per part (mean over parts)
    mean_distance: float  # mean pairwise distance over parts and pairs


def batch_all_triplet_loss(features: Tensor, labels: Tensor, margin: float) -> TripletStats:
    """GaitSet's "full" triplet loss on ``features [m, parts, d]`` with subject ``labels [m]``.

    Every subject in the batch must appear the same number of times k >= 2 (a P x K batch), so
    that each anchor has k - 1 positives and m - k negatives.
    """
    m = features.shape[0]
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    per_subject = same.sum(1)
    if per_subject.min() != per_subject.max() or int(per_subject[0]) < 2:
        raise ValueError(f"a P x K batch with K >= 2 is needed; samples per subject: {per_subject.tolist()}")
    k = int(per_subject[0])
    positive = same & ~torch.eye(m, dtype=torch.bool, device=labels.device)
    negative = ~same
    parts = features.permute(1, 0, 2)  # [parts, m, d]
    squared = parts.pow(2).sum(2)
    dist = F.relu(squared.unsqueeze(2) + squared.unsqueeze(1) - 2 * parts.matmul(parts.transpose(1, 2))).sqrt()
    pos = dist[:, positive].view(-1, m, k - 1, 1)
    neg = dist[:, negative].view(-1, m, 1, m - k)
    terms = F.relu(margin + pos - neg).flatten(1)  # [parts, m * (k - 1) * (m - k)]
    active = (terms != 0).sum(1)
    per_part = terms.sum(1) / active.clamp(min=1)  # 0 where no triplet is active, as the original
    off_diagonal = dist[:, ~torch.eye(m, dtype=torch.bool, device=labels.device)]
    return TripletStats(
        loss=per_part.mean(),
        active_triplets=float(active.float().mean()),
        mean_distance=float(off_diagonal.detach().mean()),
    )
