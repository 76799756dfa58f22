"""A tiny attack world shared by the attack-job tests: a store, a GaitSet, a WGAN and stored features."""

from pathlib import Path

import numpy as np
import torch

from gaitcore.attacks.engine import AttackSettings
from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.store import FrameStore, StoreWriter
from gaitcore.evaluation.features import extract_features, feature_index, write_features
from gaitcore.evaluation.protocols import casia_b_protocol
from gaitcore.experiments.attack_job import AttackJob, run_attack_job
from gaitcore.models.gaitset import build_gaitset, save_gaitset
from gaitcore.models.realism import fit_platt
from gaitcore.models.wgan import build_critic, build_generator, save_wgan

TRAINING_SUBJECTS = (73, 74)
SUBJECTS = (75, 76, 77, 78)  # the test subjects
VIEWS = (0, 90)


def build_world(root: Path) -> Path:
    """Training subjects 073-074 (nm-01..06) and test subjects 075-078 (gallery nm-01..04, probes
    nm-05/06 and bg-01/02), at 0 and 90 degrees; each subject's bar has its own place and height."""
    rng = np.random.default_rng(0)
    with StoreWriter(root / "casia_b", CASIA_B) as writer:
        for subject in (*TRAINING_SUBJECTS, *SUBJECTS):
            for condition, runs in (("nm", 6), ("bg", 2 if subject in SUBJECTS else 0)):
                for seq in range(1, runs + 1):
                    for view in VIEWS:
                        frames = np.zeros((int(rng.integers(12, 20)), 64, 64), dtype=np.uint8)
                        for t, frame in enumerate(frames):
                            left = 14 + (subject - 75) * 6 + (t % 5)
                            frame[8 + (subject - 75) : 58, left : left + 8 + view // 45 + (condition == "bg")] = 255
                        writer.add(SequenceKey(CASIA_B, f"{subject:03d}", condition, seq, view), frames)
    torch.manual_seed(0)
    gaitset = build_gaitset(channels=(4, 8, 16), hidden_dim=16).eval()
    save_gaitset(gaitset, root / "gaitset.pt")
    save_wgan(build_generator(4), build_critic(4), root / "wgan.pt", fit_platt([1.0, 2.0], [0.0, -1.0]))
    store = FrameStore(root / "casia_b")
    rows = casia_b_protocol((75, 78)).sequences(store.index)
    write_features(extract_features(gaitset, store, rows), feature_index(rows), root / "f.npy", root / "f.parquet", {})
    return root


def run(world, tmp_path, mode="alteration_nontargeted_adversary", condition="nm", views=(90,), settings=None,
        **job_args):
    """One attack job in ``world`` at S = 1/10, written to ``tmp_path``/t.parquet and f.npz."""
    _, goal, setting = mode.split("_")
    job = AttackJob(CASIA_B, condition, views, "1/10", mode, subjects=(75, 78), **job_args)
    settings = settings or AttackSettings(goal=goal, setting=setting, iterations=3, chunk_size=3)
    table = run_attack_job(
        victim_weights=world / "gaitset.pt", wgan_weights=world / "wgan.pt", store_root=world / "casia_b",
        features_array=world / "f.npy", features_index=world / "f.parquet", job=job, settings=settings,
        out_table=tmp_path / "t.parquet", out_frames=tmp_path / "f.npz", device="cpu", channels_last=False,
    )
    return job, table
