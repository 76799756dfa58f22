"""The attack on biometric samples (He et al. Sec. 3.3, Fig. 3 step 2), scored through the sensor path.

For every probe of one attack job (``results/attacks/<dataset>/<mode>/<S>/<condition>``,
:mod:`gaitcore.experiments.attack_job`) at the chosen probe views (``video_attack.views``; by
default all of the job's) among the first ``subjects_per_view`` of each view's design
(``attack.subjects_per_view.other``), :func:`build_adversarial_video` turns its adversarial
silhouettes into video frames and puts them into the probe's source video:

1. the source video and the raw silhouettes the store was built from come from a
   :class:`~gaitcore.video.sources.VideoSource`; store frame ``j`` is raw frame ``kept[j]``, the
   ``j``-th frame GaitSet's preprocessing keeps (:func:`kept_frames`);
2. each generated 64x64 silhouette is put back into frame geometry by the inverse of the
   preprocessing crop (:func:`gaitcore.video.frames.place_silhouette`) at the box of the raw
   silhouette it replaces (alteration) or of the original frame it is inserted before (insertion;
   the last original frame for places after it): ``L_a``;
3. SPADE translates the square person crop of ``L_a`` (the crop its training pairs used) into
   ``G_p(L_a)``, which is pasted back onto the view's empty scene (the median of its footage):
   ``I_a = I_b * (1 - L_a) + G_p(L_a) * L_a`` (:func:`gaitcore.video.frames.composite`), or with
   the camera model's soft, dilated mask (:meth:`gaitcore.data.sensor.SensorModel.paste`);
4. alteration substitutes ``I_a`` for raw frame ``kept[p]``; insertion inserts it before raw frame
   ``kept[j]`` where ``j`` is the original frame that follows place ``p`` in the adversarial sequence.
   Frames the preprocessing dropped (nobody, or a sliver) stay where they are.

Beyond the paper, which never measures it, the attacked video is then *sensed* like a camera feed
(:func:`score_video`, :class:`gaitcore.data.sensor.SensorPath`, issue 21): the camera (sensor noise,
JPEG), one segmenter of :mod:`gaitcore.data.segment` learnt from the camera's view of the empty
scene, the recording's segmentation errors that the store's silhouettes carry (synthetic source; the
frame each video frame shows or replaces or precedes gets that frame's errors), GaitSet's
preprocessing, GaitSet, rank-1 against the stored clean gallery features per gallery view. The clean
source video goes through the same path, so the table compares four accuracies per (segmenter,
sparsity, condition): clean and attacked, silhouettes (the attack job's own columns) and video. The
clean video depends on neither the mode nor the sparsity, so it is sensed and scored once per
(segmenter, condition) over the probe design's probes (:func:`run_clean_video_job`, rule
``clean_video``) and each attack job's table takes its probes' rows from there.
Where the source knows exactly where a frame differs from the empty scene (the synthetic renderer's
person, a generated person's paste: :func:`where_frames_differ`), the camera and the segmenter work
in a window around it, as for the sensed store
(:meth:`~gaitcore.data.sensor.SensorPath.sense` with ``people``); real footage is sensed whole.

**Outputs of one job**: a Parquet table, one row per probe of the chosen views (in the attack
table's order), with the attack table's key and mode columns, ``segmenter``, ``video_frames`` (frames of the
attacked video), ``video_kept`` (frames the preprocessing kept after segmentation),
``segmentation_iou`` (mean IoU of the segmented generated frames with their ``L_a``), and per
gallery view ``v`` the rank-1 subject of the clean and attacked probe through the silhouettes
(``clean_rank1_vvv``, ``rank1_vvv``, copied from the attack job) and through the video
(``video_clean_rank1_vvv``, ``video_rank1_vvv``); its metadata (key ``gaitcore.video_attack``) holds
the gallery views, the identical-view rule, the attack table, the chosen probe views, the sensor
path's settings, whether it sensed in windows (``sensed_in_windows``) and the run time. An ``.npz``
holds the first probe's frames around its first generated frame for Fig. 4.
"""

from __future__ import annotations

import logging
import os
import time
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from gaitcore.attacks.records import read_attack_frames, read_attack_table
from gaitcore.data.layout import TEST_SUBJECTS, SequenceKey
from gaitcore.data.preprocess import preprocess_frame, preprocess_sequence
from gaitcore.data.segment import BackgroundModel, Segmenter, iou
from gaitcore.data.sensor import CAPTURE_SETTINGS, SensorModel, SensorPath
from gaitcore.data.synthetic import SegmentationArtifacts
from gaitcore.errors import DataError
from gaitcore.evaluation.features import read_features
from gaitcore.evaluation.probe_design import SLOT, design_probes
from gaitcore.evaluation.protocols import protocol_for
from gaitcore.evaluation.rank1 import ProtocolGallery
from gaitcore.models.gaitset import GaitSet, load_gaitset, silhouettes_to_input
from gaitcore.models.spade import SpadeModel, load_spade
from gaitcore.utils.device import resolve_device
from gaitcore.utils.tables import read_parquet_with_meta, write_parquet_with_meta
from gaitcore.video.frames import crop_square, paste_square, person_box, place_silhouette
from gaitcore.video.sources import VideoSource

log = logging.getLogger(__name__)

META_KEY = b"gaitcore.video_attack"
CLEAN_META_KEY = b"gaitcore.clean_video"
EXAMPLE_WINDOW = 2  # frames shown on each side of the generated one in Fig. 4


def kept_frames(silhouettes: np.ndarray) -> np.ndarray:
    """Raw frame index of each store frame: the frames GaitSet's preprocessing keeps, in order."""
    return np.asarray([t for t, frame in enumerate(silhouettes) if preprocess_frame(frame) is not None], dtype=np.int64)


def synthesize_frame(mask: np.ndarray, background: np.ndarray, spade: SpadeModel, margin: float,
                     camera: SensorModel = SensorModel()) -> np.ndarray:
    """``I_a``: SPADE's rendering of silhouette ``mask`` (frame geometry, 0/255) pasted on ``background``
    by ``camera`` (:meth:`~gaitcore.data.sensor.SensorModel.paste`: the exact mask by default)."""
    box = person_box(mask)
    if box is None:
        return background.copy()
    square = box.square(margin)
    size = spade.arch.size
    seg = torch.from_numpy((crop_square(mask, square, size, nearest=True) > 127).astype(np.float32))[None, None]
    out = spade.translate(seg)[0].permute(1, 2, 0).numpy()
    rgb = np.clip(np.round((out + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return camera.paste(background, paste_square(rgb, square, background.shape), mask)


@dataclass
class AdversarialVideo:
    """An attacked video: frames, where the generated ones are, and their silhouettes ``L_a``."""

    frames: np.ndarray  # uint8 [T', rows, cols, 3]
    generated_at: np.ndarray  # indices into frames
    masks: np.ndarray  # uint8 [K, rows, cols] 0/255, L_a of each generated frame
    origin: np.ndarray  # per frame, the source frame it is (or replaces, or is inserted before)


def build_adversarial_video(rgb: np.ndarray, silhouettes: np.ndarray, kind: str, positions: np.ndarray,
                            generated: np.ndarray, spade: SpadeModel, background: np.ndarray,
                            margin: float, camera: SensorModel = SensorModel()) -> AdversarialVideo:
    """Put the generated 64x64 silhouettes of one probe into its video (see the module docstring).

    ``positions`` are the generated frames' places in the adversarial silhouette sequence (the attack
    job's ``positions``), ``generated`` their uint8 ``[K, 64, 64]`` frames.
    """
    kept = kept_frames(silhouettes)
    n, k = len(kept), len(generated)
    length = n + k if kind == "insertion" else n
    if len(positions) != k or (k and (positions.min() < 0 or positions.max() >= length)):
        raise ValueError(f"{k} generated frames at places {positions.tolist()} do not fit a {kind} of {n} frames")
    shape = rgb.shape[1:3]
    masks = []
    if kind == "alteration":
        frames = rgb.copy()
        at = kept[positions]
        for p, frame64 in zip(positions, generated, strict=True):
            mask = place_silhouette(frame64, person_box(silhouettes[kept[p]]), shape)
            frames[kept[p]] = synthesize_frame(mask, background, spade, margin, camera)
            masks.append(mask)
        return AdversarialVideo(frames, np.asarray(at, dtype=np.int64), _stack(masks, shape), np.arange(len(rgb)))
    inserts: dict[int, list[np.ndarray]] = {}
    for i, (p, frame64) in enumerate(zip(positions, generated, strict=True)):
        following = int(p) - i  # originals before place p (positions are sorted)
        anchor = kept[min(following, n - 1)]
        mask = place_silhouette(frame64, person_box(silhouettes[anchor]), shape)
        inserts.setdefault(int(kept[following]) if following < n else len(rgb), []).append(
            synthesize_frame(mask, background, spade, margin, camera))
        masks.append(mask)
    out, at, origin = [], [], []
    for t in range(len(rgb) + 1):
        for frame in inserts.get(t, []):
            at.append(len(out))
            out.append(frame)
            origin.append(min(t, len(rgb) - 1))
        if t < len(rgb):
            out.append(rgb[t])
            origin.append(t)
    return AdversarialVideo(np.stack(out), np.asarray(at, dtype=np.int64), _stack(masks, shape),
                            np.asarray(origin, dtype=np.int64))


def where_frames_differ(video: AdversarialVideo, people: np.ndarray, camera: SensorModel) -> np.ndarray:
    """Where each frame of ``video`` differs from the view's empty scene, uint8 ``[T', rows, cols]``: the
    source's exact person mask (``people``, per source frame) of the frame it shows, and for a
    generated frame (SPADE's person on the empty scene) the region its paste took
    (:meth:`~gaitcore.data.sensor.SensorModel.pasted`)."""
    out = people[video.origin]
    for t, mask in zip(video.generated_at, video.masks, strict=True):
        out[t] = camera.pasted(mask)
    return out


def _stack(masks: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    return np.asarray(masks, dtype=np.uint8).reshape(len(masks), *shape)


@torch.inference_mode()
def sequence_features(model: GaitSet, frames: np.ndarray, device: torch.device) -> np.ndarray | None:
    """GaitSet features ``[parts, hidden]`` of preprocessed frames uint8 ``[T, 64, 64]``; None if ``T == 0``."""
    if len(frames) == 0:
        return None
    return model(silhouettes_to_input(frames, device)[None]).float().cpu().numpy()[0]


def score_video(frames: np.ndarray, sensor: SensorPath, segmenter: Segmenter, model: GaitSet, device: torch.device,
                rng: np.random.Generator, artifacts: SegmentationArtifacts | None = None,
                origin: np.ndarray | None = None, people: np.ndarray | None = None
                ) -> tuple[np.ndarray | None, np.ndarray, int]:
    """The sensor path (:meth:`~gaitcore.data.sensor.SensorPath.sense`, in windows around ``people``
    when given), preprocessing and GaitSet: ``(features or None, the segmenter's masks, frames kept by
    preprocessing)``."""
    silhouettes, segmented = sensor.sense(frames, segmenter, rng, artifacts, origin, people)
    aligned, _ = preprocess_sequence(silhouettes)
    return sequence_features(model, aligned, device), segmented, len(aligned)


def probe_rng(seed: int, key: SequenceKey, stream: int) -> np.random.Generator:
    """The camera's random numbers for one probe's video: ``stream`` 0 the clean one, 1 the attacked."""
    return np.random.default_rng([seed, zlib.crc32(key.label.encode()), stream])


def _nearest(features: list[np.ndarray | None], gallery: ProtocolGallery, views: list[int], metric: str) -> np.ndarray:
    out = np.full((len(features), len(views)), None, dtype=object)
    present = [i for i, f in enumerate(features) if f is not None]
    if present:
        out[present] = gallery.nearest(np.stack([features[i] for i in present]), views, metric)
    return out


def view_scene(scenes: dict[int, tuple[np.ndarray, Segmenter]], source: VideoSource, sensor: SensorPath, seed: int,
               view: int) -> tuple[np.ndarray, Segmenter]:
    """The empty-scene plate of ``view`` (the median of its footage, SPADE's background) and the
    segmenter learnt from the camera's film of the footage (its draws seeded by ``seed`` and the view),
    made once per view into ``scenes``: the clean and the attacked videos of a view meet the same one."""
    if view not in scenes:
        footage = source.background_footage(view)
        scenes[view] = (BackgroundModel.from_footage(footage).image,
                        sensor.background(footage, np.random.default_rng([seed, view])))
    return scenes[view]


def capture_settings(sensor: SensorPath) -> dict[str, Any]:
    """What decides a clean video's masks: the segmenter, its settings, ``min_area`` and the camera's
    capture (noise, JPEG, footage frames); not the attacker's paste (``dilate``, ``feather``)."""
    camera = asdict(sensor.camera)
    return {"segmenter": sensor.segmenter, "settings": dict(sensor.settings), "min_area": sensor.min_area,
            "camera": {key: camera[key] for key in CAPTURE_SETTINGS}}


def run_clean_video_job(
    *,
    gaitset_weights: str | Path,
    features_array: str | Path,
    features_index: str | Path,
    source: VideoSource,
    condition: str,
    views: Sequence[int],
    subjects_per_view: int | None,
    out_table: str | Path,
    test_subjects: tuple[int, int] = TEST_SUBJECTS,
    metric: str = "euclidean",
    sensor: SensorPath = SensorPath(),
    seed: int = 0,
    device: str = "auto",
) -> pd.DataFrame:
    """Sense and score the clean video of every probe the video attack reads for ``condition``: the
    probe design's (:func:`~gaitcore.evaluation.probe_design.design_probes`) first ``subjects_per_view``
    subjects at each of ``views``, the probes every attack job of the condition holds at a budget at
    least that large. Once per (segmenter, condition) instead of once per attack job: the clean video
    does not depend on the mode or the sparsity (the camera's draws are the probe's stream 0,
    :func:`probe_rng`). Writes one row per probe (key, ``slot``, ``video_clean_kept`` and
    ``video_clean_rank1_vvv`` per gallery view) with metadata (key ``gaitcore.clean_video``: gallery
    views, the sensor's capture settings, the seed)."""
    began = time.perf_counter()
    dev = resolve_device(device)
    features, index, _ = read_features(features_array, features_index)
    dataset = str(index["dataset"].iloc[0]) if len(index) else source.dataset
    protocol = protocol_for(dataset, test_subjects)
    probes = design_probes(index, protocol, condition, list(views), subjects_per_view)
    missing = sorted(set(map(int, views)) - set(probes["view"].astype(int)))
    if missing:
        raise DataError(features_index, f"has no {condition} probe at view {', '.join(map(str, missing))}",
                        "choose video_attack.views among attack.views, or rerun extract_features")
    gaitset, _ = load_gaitset(gaitset_weights, map_location=dev)
    gallery = ProtocolGallery.of(features, index, protocol)
    gallery_views = [int(v) for v in protocol.views]
    scenes: dict[int, tuple[np.ndarray, Segmenter]] = {}
    clean_features, kept = [], []
    for _, probe in probes.iterrows():
        key = SequenceKey(dataset, probe["subject"], probe["condition"], int(probe["seq"]), int(probe["view"]))
        _, segmenter = view_scene(scenes, source, sensor, seed, key.view)
        rgb, exact = source.video(key)
        features_of, _, frames_kept = score_video(rgb, sensor, segmenter, gaitset, dev, probe_rng(seed, key, 0),
                                                  source.artifacts(key), people=exact if source.exact_masks else None)
        clean_features.append(features_of)
        kept.append(frames_kept)
        log.info("%s: clean video of %d frames, %d kept", key.label, len(rgb), frames_kept)
    table = probes[["dataset", "subject", "condition", "seq", "view", SLOT]].reset_index(drop=True).copy()
    table["video_clean_kept"] = kept
    nearest = _nearest(clean_features, gallery, gallery_views, metric)
    for j, view in enumerate(gallery_views):
        table[f"video_clean_rank1_{view:03d}"] = nearest[:, j]
    seconds = time.perf_counter() - began
    meta = {"gallery_views": gallery_views, "condition": condition, "views": [int(v) for v in views],
            "subjects_per_view": subjects_per_view, **capture_settings(sensor), "seed": seed,
            "sensed_in_windows": source.exact_masks, "device": str(dev), "seconds": round(seconds, 3)}
    write_parquet_with_meta(table, out_table, CLEAN_META_KEY, meta)
    log.info("%d clean videos in %.1f s", len(table), seconds)
    return table


def clean_video_rows(path: str | Path, rows: pd.DataFrame, gallery_views: list[int], sensor: SensorPath,
                     seed: int) -> pd.DataFrame:
    """The rows of the clean video table at ``path`` of the probes in ``rows`` (an attack table's), in
    their order; a DataError naming the file when it is no such table, was sensed through another path
    or seed, lacks one of ``gallery_views`` or lacks a probe."""
    redo = "rerun the rule `clean_video` for this segmenter and condition"
    table, meta = read_parquet_with_meta(path, CLEAN_META_KEY, "a clean video table", redo)
    wanted = {**capture_settings(sensor), "seed": seed}
    differing = sorted(key for key, value in wanted.items() if meta.get(key) != value)
    if not set(gallery_views) <= set(meta.get("gallery_views", [])):
        differing.append("gallery_views")
    if differing:
        raise DataError(path, f"was sensed or scored otherwise than this job (other {', '.join(differing)})", redo)
    keys = ["subject", "condition", "seq", "view"]
    found = rows[keys].reset_index(drop=True).merge(table, on=keys, how="left", validate="one_to_one",
                                                    indicator=True)
    absent = found[found["_merge"] == "left_only"]
    if len(absent):
        first = absent.iloc[0]
        raise DataError(path, f"has no clean video of {len(absent)} probe(s) of this job, e.g. subject "
                        f"{first['subject']} {first['condition']}-{int(first['seq']):02d} view {int(first['view'])}",
                        "make video_attack.subjects_per_view at most the attack's budget, and " + redo)
    return found.drop(columns="_merge")


def table_rows_to_sense(rows: pd.DataFrame, views: Sequence[int] | None, attack_table: str | Path,
                  subjects_per_view: int | None = None) -> pd.DataFrame:
    """The rows of an attack table (positional index kept: row ``i``'s frames start at ``offsets[i]``)
    whose probe view is in ``views`` (None: all) and, with ``subjects_per_view``, whose ``slot`` is
    below it (the smaller budget's probes, :mod:`gaitcore.evaluation.probe_design`); a DataError
    naming the table for a view it lacks."""
    rows = rows.reset_index(drop=True)
    if subjects_per_view is not None:
        rows = rows[rows[SLOT] < subjects_per_view]
    if views is None:
        return rows
    missing = sorted(set(map(int, views)) - set(rows["view"].astype(int)))
    if missing:
        raise DataError(attack_table, f"has no probe at view {', '.join(map(str, missing))}",
                        "choose video_attack.views among attack.views, or rerun the rule `attack` for this job")
    return rows[rows["view"].isin(list(views))]


def run_video_attack_job(
    *,
    attack_table: str | Path,
    attack_frames: str | Path,
    gaitset_weights: str | Path,
    spade_weights: str | Path,
    features_array: str | Path,
    features_index: str | Path,
    clean_table: str | Path,
    source: VideoSource,
    out_table: str | Path,
    out_example: str | Path,
    test_subjects: tuple[int, int] = TEST_SUBJECTS,
    metric: str = "euclidean",
    sensor: SensorPath = SensorPath(),
    seed: int = 0,
    device: str = "auto",
    views: Sequence[int] | None = None,
    subjects_per_view: int | None = None,
) -> pd.DataFrame:
    """Build, sense and score the attacked videos of one attack job's probes at ``views`` (None: every
    view of the job), the first ``subjects_per_view`` of each view's design (None: all of them),
    through ``sensor`` (its camera's noise seeded by ``seed`` and the probe); take their clean
    videos' scores from ``clean_table`` (:func:`run_clean_video_job`, the same path and seed); write
    its table and Fig. 4 example."""
    began = time.perf_counter()
    dev = resolve_device(device)
    rows, meta = read_attack_table(attack_table)
    generated, offsets, positions = read_attack_frames(attack_frames)
    if len(offsets) != len(rows) + 1:
        raise DataError(attack_frames, f"holds frames of {len(offsets) - 1} probes, its table {len(rows)}",
                        "rerun the rule `attack` for this job (delete both files first)")
    rows = table_rows_to_sense(rows, views, attack_table, subjects_per_view)
    gaitset, _ = load_gaitset(gaitset_weights, map_location=dev)
    spade = load_spade(spade_weights, map_location=dev)
    margin = float(spade.extra.get("train_config", {}).get("crop_margin", 0.05))
    features, index, _ = read_features(features_array, features_index)
    dataset = str(rows["dataset"].iloc[0]) if len(rows) else source.dataset
    protocol = protocol_for(dataset, test_subjects)
    gallery = ProtocolGallery.of(features, index, protocol)
    gallery_views = [int(v) for v in meta["gallery_views"]]
    clean = clean_video_rows(clean_table, rows, gallery_views, sensor, seed)
    scenes: dict[int, tuple[np.ndarray, Segmenter]] = {}
    attacked_features, video_frames, video_kept, ious = [], [], [], []
    example = None
    for i, row in rows.iterrows():  # i: the row's place in the attack table and its frames
        key = SequenceKey(row["dataset"], row["subject"], row["condition"], int(row["seq"]), int(row["view"]))
        plate, segmenter = view_scene(scenes, source, sensor, seed, key.view)
        rgb, exact = source.video(key)
        silhouettes = source.silhouettes(key)
        kept = kept_frames(silhouettes)
        if len(kept) != int(row["frame_count"]):
            raise DataError(attack_table, f"{key.label}: the video's silhouettes give {len(kept)} stored frames, the "
                            f"attack job {row['frame_count']}", "rebuild the store and the attacks from the same "
                            "dataset configuration as the videos (datasets.casia_b)")
        lo, hi = int(offsets[i]), int(offsets[i + 1])
        video = build_adversarial_video(rgb, silhouettes, str(row["kind"]), positions[lo:hi], generated[lo:hi], spade,
                                        plate, margin, sensor.camera)
        # A source that knows where each frame differs from the empty scene is sensed in windows around
        # it, as the synthetic store is (SensorPath.sense with people); real footage on the whole frame.
        attacked, masks, kept_attacked = score_video(
            video.frames, sensor, segmenter, gaitset, dev, probe_rng(seed, key, 1), source.artifacts(key),
            video.origin, where_frames_differ(video, exact, sensor.camera) if source.exact_masks else None)
        attacked_features.append(attacked)
        video_frames.append(len(video.frames))
        video_kept.append(kept_attacked)
        ious.append(float(np.mean([iou(masks[t], m) for t, m in zip(video.generated_at, video.masks, strict=True)]))
                    if len(video.generated_at) else float("nan"))
        if example is None and len(video.generated_at):
            example = _example(key, row, rgb, video, masks)
        log.info("%s %s S=%s: %d -> %d video frames, segmentation IoU of the generated frames %.3f",
                 key.label, row["mode"], row["sparsity"], len(rgb), len(video.frames), ious[-1])
    table = rows[["dataset", "subject", "condition", "seq", "view", "mode", "kind", "goal", "setting", "sparsity",
                  "target", "frame_count", "altered"]].reset_index(drop=True).copy()
    if "variant" in rows:
        table["variant"] = rows["variant"].to_numpy()
    table["segmenter"] = sensor.segmenter
    table["video_frames"] = video_frames
    table["video_kept"] = video_kept
    table["segmentation_iou"] = ious
    nearest = _nearest(attacked_features, gallery, gallery_views, metric)
    for j, view in enumerate(gallery_views):
        table[f"clean_rank1_{view:03d}"] = rows[f"clean_rank1_{view:03d}"].to_numpy()
        table[f"rank1_{view:03d}"] = rows[f"rank1_{view:03d}"].to_numpy()
        table[f"video_clean_rank1_{view:03d}"] = clean[f"video_clean_rank1_{view:03d}"].to_numpy()
        table[f"video_rank1_{view:03d}"] = nearest[:, j]
    seconds = time.perf_counter() - began
    out_meta = {"gallery_views": gallery_views, "exclude_identical_view": bool(meta["exclude_identical_view"]),
                "attack_table": str(attack_table), "views": sorted(set(rows["view"].astype(int))),
                "spade_weights": str(spade_weights), "segmenter": sensor.segmenter, "settings": dict(sensor.settings),
                "min_area": sensor.min_area, "camera": asdict(sensor.camera), "seed": seed, "crop_margin": margin,
                "sensed_in_windows": source.exact_masks,
                "device": str(dev), "seconds": round(seconds, 3)}
    write_parquet_with_meta(table, out_table, META_KEY, out_meta)
    _write_example(out_example, example)
    log.info("%d probes in %.1f s", len(table), seconds)
    return table


def _example(key: SequenceKey, row: pd.Series, rgb: np.ndarray, video: AdversarialVideo,
             masks: np.ndarray) -> dict[str, np.ndarray]:
    """Frames around the first generated frame of one probe: the source frames at the same places
    (for an inserted frame, the one it precedes), the attacked ones and their segmentation (Fig. 4)."""
    centre = int(video.generated_at[0])
    lo, hi = max(0, centre - EXAMPLE_WINDOW), min(len(video.frames), centre + EXAMPLE_WINDOW + 1)
    return {"source": rgb[video.origin[lo:hi]], "attacked": video.frames[lo:hi], "segmented": masks[lo:hi],
            "generated": np.asarray([t == centre for t in range(lo, hi)]), "mask": video.masks[0],
            "label": np.asarray(f"{key.label} {row['mode']} S={row['sparsity']}")}


def _write_example(path: str | Path, example: dict[str, np.ndarray] | None) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **(example or {"label": np.asarray("")}))
    os.replace(tmp, path)


def read_video_attack_table(path: str | Path) -> tuple[pd.DataFrame, dict]:
    """One video attack job's table and its metadata; a DataError naming the file otherwise."""
    return read_parquet_with_meta(path, META_KEY, "a video attack table", "rerun the rule `video_attack` for this job")


def read_example(path: str | Path) -> dict[str, np.ndarray]:
    """A job's Fig. 4 example (empty dict when the job had no generated frame)."""
    with np.load(path) as data:
        example = {k: data[k] for k in data.files}
    return example if "source" in example else {}
