"""One attack job of the pipeline: every probe of one (dataset, condition) at its views, one sparsity and mode.

A *mode* is ``{kind}_{goal}_{setting}``: kind ``alteration`` | ``insertion`` (Sec. 3.2), goal
``nontargeted`` | ``targeted`` (Eq. 1 / Eq. 3), setting ``adversary`` (Algorithm 1) | ``random``
(Sec. 4.2's control) | ``fgsm`` | ``pgd`` | ``mifgsm`` (Sec. 4.5's pixel-space baselines,
:mod:`gaitcore.attacks.perturbation`). The job reads the trained models, the store's frames and the
stored features (gallery features are never recomputed) and prepares the gallery once, then attacks
the probes of all its views in one call of :class:`gaitcore.attacks.engine.TemporalSparseAttack`
(or, for a baseline, :class:`gaitcore.attacks.perturbation.PerturbationAttack`, which needs no
generator). Both engines give each sequence the same result whatever chunk it runs in (on one
thread), and every probe is seeded by its own key, so a probe's row is bit-identical to what a job
of its view alone writes; bundling views only saves the process start-up per view (docs/attack.md
"Scale and cost"). The job writes:

* a Parquet table, one row per probe, ordered by the job's views, then the probe's ``slot`` in its
  view's run of subjects (:mod:`gaitcore.evaluation.probe_design`): its key (with its ``view``
  and ``slot``), the mode and sparsity, ``N``, ``K``, the places of
  the generated frames, the target, the final objective, cosine and realism, and for every gallery
  view the rank-1 identity of the clean probe (``clean_rank1_VVV``) and of the attacked probe
  (``rank1_VVV``); the Parquet metadata (key ``gaitcore.attack``) holds the gallery views, the
  protocol's identical-view rule, the job (its views listed), the settings, the run time and the
  peak memory;
* a compressed ``.npz`` with the generated frames (uint8 ``[R, 64, 64]``), their places and
  per-probe ``offsets`` (row ``i``'s frames are ``frames[offsets[i]:offsets[i + 1]]``).

**Targets** (Sec. 4.1 "Implementation details": a random other identity, one of its sequences):
the target subject is drawn uniformly from the other test subjects (``target_choice="random"``,
the paper's; ``"nearest"`` instead takes the other subject of the gallery sequence nearest to the
clean probe, the easiest target, a diagnostic of how much the target's choice costs); ``X_t`` is that subject's
sequence of the probe's condition and view outside the gallery (e.g. nm-05 or nm-06 for an NM
probe), drawn uniformly; if it has none, any of its non-gallery sequences. Targets, placements and
initial latents are drawn from a seed derived from the config seed and the probe's key (its own
view included), mode and sparsity, so a probe's result does not depend on which job or chunk ran
it; a *variant* of the optimiser settings (``attack.variants``, e.g. the temporal term or early stop) attacks the same
probes from the same start, so it compares pairwise with the plain run. A perturbation baseline's
probes are seeded by the adversary's mode (``kind_goal_adversary``), so it attacks the same probes
with the same targets and frame places as the attack it is compared with (Sec. 4.5).
"""

from __future__ import annotations

import logging
import resource
import time
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from gaitcore.attacks.engine import (
    AttackItem,
    AttackSettings,
    TemporalSparseAttack,
    Victim,
)
from gaitcore.attacks.perturbation import PerturbationAttack, PerturbationSettings
from gaitcore.attacks.plan import plan_frames
from gaitcore.attacks.records import write_attack_frames, write_attack_table
from gaitcore.attacks.vocabulary import Mode, Sparsity
from gaitcore.data.layout import TEST_SUBJECTS
from gaitcore.data.store import FrameStore
from gaitcore.errors import DataError
from gaitcore.evaluation.features import read_features
from gaitcore.evaluation.probe_design import SLOT, design_probes
from gaitcore.evaluation.protocols import protocol_for
from gaitcore.evaluation.rank1 import ProtocolGallery, distances
from gaitcore.models.victims import architecture_of, in_channels_last, load_victim
from gaitcore.models.wgan import load_wgan
from gaitcore.utils.device import resolve_device

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AttackJob:
    """Which probes one job attacks and how (everything but the engine's optimiser settings).

    ``views`` are the probe views attacked together (at least one, no repeats; lists are taken as
    tuples, so a job can come straight from a Snakemake params dict).
    """

    dataset: str
    condition: str
    views: tuple[int, ...]
    sparsity: str
    mode: str
    placement: str = "first"
    k_rule: str = "floor_plus_one"
    seed: int = 0
    subjects_per_view: int | None = None  # the probe budget (gaitcore.evaluation.probe_design); None: all
    subjects: tuple[int, int] = TEST_SUBJECTS  # whose gallery and probes: test (reported) or validation
    metric: str = "euclidean"
    variant: str = ""  # name of the optimiser-settings variant ("" - the config's own settings)
    target_choice: str = "random"  # a targeted attack's target subject: TARGET_CHOICES

    def __post_init__(self) -> None:
        object.__setattr__(self, "views", tuple(int(v) for v in self.views))
        object.__setattr__(self, "subjects", tuple(self.subjects))
        if not self.views or len(set(self.views)) != len(self.views):
            raise ValueError(f"an attack job needs distinct probe views, got {list(self.views)}")
        if self.target_choice not in TARGET_CHOICES:
            raise ValueError(f"attack.target_choice {self.target_choice!r}: use one of {list(TARGET_CHOICES)}")

    @property
    def seed_mode(self) -> str:
        """The mode that seeds the probes: the adversary's for a perturbation baseline (same targets, places)."""
        return str(Mode.parse(self.mode).seed_mode)

    def probe_seed(self, subject: str, seq: int, view: int) -> int:
        """A stable seed for one probe (independent of chunking, job order and the job's other views)."""
        text = f"{self.dataset}/{subject}/{self.condition}/{seq}/{view}/{self.sparsity}/{self.seed_mode}"
        return (zlib.crc32(text.encode()) ^ (self.seed * 0x9E3779B1)) & 0x7FFFFFFF


def settings_for(mode: str, values: Mapping[str, Any]) -> AttackSettings | PerturbationSettings:
    """The settings of a job of ``mode``: :class:`PerturbationSettings` for a baseline, else :class:`AttackSettings`."""
    return (PerturbationSettings if Mode.parse(mode).is_baseline else AttackSettings)(**values)


TARGET_CHOICES = ("random", "nearest")  # the paper's uniform draw; the other subject nearest the clean probe


def nearest_other_subject(gallery: ProtocolGallery, probe_feature: np.ndarray, subject: str, metric: str) -> str:
    """The subject, other than ``subject``, of the gallery sequence nearest to ``probe_feature`` (any view)."""
    others = np.flatnonzero(gallery.subjects != subject)
    if not len(others):
        raise ValueError("a targeted attack needs at least two test subjects in the gallery")
    dist = distances(probe_feature[None], gallery.features, metric)[0].numpy()
    return str(gallery.subjects[others[int(np.argmin(dist[others]))]])


def choose_target(index: pd.DataFrame, gallery: np.ndarray, probe: pd.Series, rng: np.random.Generator,
                  target: str | None = None) -> int:
    """Feature row of ``X_t`` for a targeted attack on ``probe`` (see the module docstring); the target
    subject is drawn uniformly from the other gallery subjects unless ``target`` names it."""
    outside = index[~gallery]
    others = sorted(set(index.loc[gallery, "subject"]) - {probe["subject"]})
    if not others:
        raise ValueError("a targeted attack needs at least two test subjects in the gallery")
    if target is None:
        target = others[int(rng.integers(len(others)))]
    candidates = outside[outside["subject"] == target]
    same = candidates[(candidates["condition"] == probe["condition"]) & (candidates["view"] == probe["view"])]
    pool = same if len(same) else candidates
    if not len(pool):
        pool = index[gallery & (index["subject"] == target).to_numpy()]
    return int(pool.index[int(rng.integers(len(pool)))])


def _success_check(gallery: ProtocolGallery, wanted: list[str], avoid: bool, views: list[int], counted: np.ndarray,
                   metric: str):
    """Early-stop test: fooled on every counted gallery view (rank-1 != subject, or == target);
    ``counted`` ``[probes, len(views)]`` marks each probe's counted gallery views."""

    def succeeded(features: torch.Tensor, sequences) -> torch.Tensor:
        nearest = gallery.nearest(features.float().cpu(), views, metric)
        expected = np.asarray([wanted[i] for i in sequences], dtype=object)[:, None]
        hit, used = nearest == expected, counted[list(sequences)]
        return torch.from_numpy(~(hit & used).any(1) if avoid else (hit | ~used).all(1))

    return succeeded


def run_attack_job(
    *,
    victim_weights: str | Path,
    wgan_weights: str | Path | None,
    store_root: str | Path,
    features_array: str | Path,
    features_index: str | Path,
    job: AttackJob,
    settings: AttackSettings | PerturbationSettings,
    out_table: str | Path,
    out_frames: str | Path,
    device: str = "auto",
    channels_last: bool = True,
) -> pd.DataFrame:
    """Attack the job's probes and write its table and frames (atomically); returns the table.

    ``victim_weights``: the attacked model's weights (GaitSet, GaitPart or GaitGL,
    :func:`gaitcore.models.victims.load_victim`), whose features ``features_array`` holds.
    ``settings`` are :class:`AttackSettings` for the attack and its random control (they need the
    WGAN, ``wgan_weights``) or :class:`PerturbationSettings` for a baseline (no WGAN: pass None).
    """
    began = time.perf_counter()
    mode = Mode.parse(job.mode)
    kind, goal, setting = mode.kind, mode.goal, mode.setting
    if (goal, setting) != (settings.goal, settings.setting):
        raise ValueError(f"mode {job.mode} does not match the settings' goal {settings.goal} / {settings.setting}")
    sparsity = Sparsity.parse(job.sparsity)
    dev = resolve_device(device)
    model, _ = load_victim(victim_weights, map_location=dev)
    if isinstance(settings, PerturbationSettings):
        attacker = PerturbationAttack(in_channels_last(model, channels_last), settings, dev)
    else:
        if wgan_weights is None:
            raise ValueError(f"mode {job.mode} generates frames: it needs the WGAN weights")
        wgan = load_wgan(wgan_weights, map_location=dev)
        victim = Victim(model, wgan.generator, wgan.realism)
        if channels_last:
            victim = victim.to_channels_last()
    store = FrameStore(store_root)
    features, index, _ = read_features(features_array, features_index)
    if store.dataset != job.dataset:
        raise DataError(store.root, f"holds {store.dataset}, but the job attacks {job.dataset}",
                        "check the rule's store input")
    protocol = protocol_for(job.dataset, job.subjects)
    gallery = protocol.gallery_mask(index)
    probes = design_probes(index, protocol, job.condition, job.views, job.subjects_per_view)
    missing = [v for v in job.views if v not in set(probes["view"])]
    if missing:
        raise DataError(Path(features_index), f"no {job.condition} probe at view {', '.join(map(str, missing))} among "
                        "the stored features", "check attack.conditions/views against the dataset, or rerun "
                        "extract_features")
    prepared = ProtocolGallery.of(features, index, protocol)  # once: several rank-1 queries below
    views = list(protocol.views)
    counted = protocol.counted_views(probes["view"].to_numpy())

    items, targets, plans = [], [], []
    for _, probe in probes.iterrows():
        rng = np.random.default_rng(job.probe_seed(probe["subject"], int(probe["seq"]), int(probe["view"])))
        frames = np.asarray(store.sequence(int(probe["store_row"])))
        plan = plan_frames(len(frames), sparsity.value, kind=kind, placement=job.placement, rule=job.k_rule, rng=rng)
        if goal == "targeted":
            chosen = (None if job.target_choice == "random" else nearest_other_subject(
                prepared, np.array(features[int(probe["feature_row"])]), probe["subject"], job.metric))
            target_row = choose_target(index, gallery, probe, rng, chosen)
            targets.append(str(index.at[target_row, "subject"]))
        else:
            target_row = int(probe.name)
            targets.append("")
        reference = torch.from_numpy(np.array(features[int(index.at[target_row, "feature_row"])]))
        items.append(AttackItem(frames, plan, reference, seed=int(rng.integers(2**31))))
        plans.append(plan)
    wanted = targets if goal == "targeted" else probes["subject"].tolist()
    # The early-stop test runs every iteration on features the attack computed under its own dtype;
    # float32 distances halve its cost (docs/throughput.md), the rows below are scored in float64.
    check = _success_check(prepared.in_dtype(torch.float32), wanted, goal == "nontargeted", views, counted,
                           job.metric)
    log.info("%s %s %s views %s S=%s: %d probes, K %d..%d", job.dataset, job.mode, job.condition,
             ",".join(map(str, job.views)), job.sparsity, len(items), min(p.k for p in plans), max(p.k for p in plans))
    if isinstance(settings, PerturbationSettings):
        outcomes = attacker.attack(items)
    else:
        outcomes = TemporalSparseAttack(victim, settings, dev).attack(items, succeeded=check)

    attacked = torch.stack([o.features for o in outcomes])
    clean = np.asarray(features[probes["feature_row"].to_numpy()])
    nearest = prepared.nearest(attacked, views, job.metric)
    nearest_clean = prepared.nearest(clean, views, job.metric)
    table = pd.DataFrame({
        "dataset": job.dataset, "subject": probes["subject"].to_numpy(), "condition": job.condition,
        "seq": probes["seq"].to_numpy(np.int64), "view": probes["view"].to_numpy(np.int64),
        SLOT: probes[SLOT].to_numpy(np.int64), "mode": job.mode,
        "kind": kind, "goal": goal, "setting": setting, "sparsity": sparsity.label, "sparsity_value": float(sparsity),
        "frame_count": [p.frame_count for p in plans], "altered": [p.k for p in plans],
        "positions": [p.generated.tolist() for p in plans], "target": targets,
        "final_loss": [o.objective for o in outcomes], "cosine": [o.cosine for o in outcomes],
        "realism": [o.realism for o in outcomes], "iterations": [o.iterations for o in outcomes],
        "variant": job.variant,
    })
    for j, view in enumerate(views):
        table[f"clean_rank1_{view:03d}"] = nearest_clean[:, j].astype(str)
        table[f"rank1_{view:03d}"] = nearest[:, j].astype(str)
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    meta = {
        "gallery_views": views, "exclude_identical_view": protocol.exclude_identical_view,
        "job": asdict(job), "settings": asdict(settings), "device": str(dev), "seconds": round(seconds, 3),
        "peak_rss_mb": round(peak_mb, 1), "victim_weights": str(victim_weights),
        "victim": architecture_of(model).name, "wgan_weights": None if wgan_weights is None else str(wgan_weights),
    }
    write_attack_frames(out_frames, [o.generated for o in outcomes], plans)
    write_attack_table(table, out_table, meta)
    log.info("done in %.1f s, peak RSS %.0f MB; accuracy %.1f%% (clean %.1f%%)", seconds, peak_mb,
             _accuracy(nearest, probes, counted), _accuracy(nearest_clean, probes, counted))
    return table


def _accuracy(nearest: np.ndarray, probes: pd.DataFrame, counted: np.ndarray) -> float:
    """Rank-1 accuracy (%) over every probe's counted gallery views (for the log)."""
    hit = nearest == probes["subject"].to_numpy()[:, None]
    return 100.0 * float((hit & counted).sum() / counted.sum())


__all__ = ["AttackJob", "run_attack_job", "settings_for"]
