"""Adversarial videos: substituted and inserted frames land where the attack put them; a whole job on
the chosen views of an attack job; the table."""

import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from gaitcore.data.layout import CASIA_B, SequenceKey
from gaitcore.data.preprocess import preprocess_sequence
from gaitcore.data.segment import BackgroundModel, iou, segment
from gaitcore.data.sensor import SensorModel, SensorPath
from gaitcore.data.store import FrameStore, StoreWriter
from gaitcore.data.synthetic import SyntheticConfig
from gaitcore.errors import DataError
from gaitcore.evaluation.attack_accuracy import attack_accuracy
from gaitcore.evaluation.features import extract_features, feature_index, write_features
from gaitcore.evaluation.protocols import casia_b_protocol
from gaitcore.experiments.video_attack import (
    build_adversarial_video,
    kept_frames,
    probe_rng,
    read_example,
    read_video_attack_table,
    run_clean_video_job,
    run_video_attack_job,
    score_video,
    sequence_features,
    where_frames_differ,
)
from gaitcore.experiments.video_attack_table import COLUMNS, video_attack_markdown, video_attack_table
from gaitcore.models.gaitset import build_gaitset, save_gaitset
from gaitcore.models.spade import SpadeArch, SpadeModel, build_spade_discriminator, build_spade_generator, save_spade
from gaitcore.video.sources import CasiaBVideos, SyntheticVideos, video_source
from tests.reporting.test_attack_tables import row as attack_row
from tests.reporting.test_attack_tables import write as write_attack_table

pytestmark = pytest.mark.usefixtures("one_torch_thread")
CFG = SyntheticConfig.for_dataset(CASIA_B, subjects=2, frames_min=14, frames_max=14, empty_rate=0.3)
KEY = SequenceKey(CASIA_B, "001", "nm", 1, 90)


@pytest.fixture(scope="module")
def probe():
    source = SyntheticVideos(CFG)
    rgb, _ = source.video(KEY)
    silhouettes = source.silhouettes(KEY)
    stored, _ = preprocess_sequence(silhouettes)
    torch.manual_seed(0)
    arch = SpadeArch(size=32, ngf=1, ndf=2, nhidden=2, n_layers_d=2)
    spade = SpadeModel(arch, build_spade_generator(arch).eval(), build_spade_discriminator(arch).eval(), {})
    background = BackgroundModel.from_footage(source.background_footage(KEY.view))
    return rgb, silhouettes, stored, spade, background


def test_kept_frames_are_the_frames_the_store_holds(probe):
    rgb, silhouettes, stored, *_ = probe
    kept = kept_frames(silhouettes)
    assert len(kept) == len(stored) < len(rgb)  # empty_rate drops some frames
    assert np.array_equal(preprocess_sequence(silhouettes[kept])[0], stored)


def test_alteration_substitutes_exactly_the_altered_store_frames(probe):
    rgb, silhouettes, stored, spade, background = probe
    kept = kept_frames(silhouettes)
    positions = np.array([1, 4])
    video = build_adversarial_video(rgb, silhouettes, "alteration", positions, stored[[3, 0]], spade,
                                    background.image, 0.05)
    assert video.frames.shape == rgb.shape and np.array_equal(video.generated_at, kept[positions])
    changed = np.flatnonzero((video.frames != rgb).any(axis=(1, 2, 3)))
    assert set(changed) <= set(kept[positions]) and len(changed) == 2
    untouched = np.setdiff1d(np.arange(len(rgb)), kept[positions])
    assert np.array_equal(video.frames[untouched], rgb[untouched])
    # The new person is where L_a says: outside it, the frame is the background model.
    for t, mask in zip(video.generated_at, video.masks):
        assert (mask > 0).sum() > 500
        assert np.array_equal(video.frames[t][mask == 0], background.image[mask == 0])


def test_insertion_adds_the_frames_before_the_original_that_follows_them(probe):
    rgb, silhouettes, stored, spade, background = probe
    kept = kept_frames(silhouettes)
    n = len(kept)
    positions = np.array([0, 3, n + 2])  # before original 0, before original 2, after the last one
    video = build_adversarial_video(rgb, silhouettes, "insertion", positions, stored[[0, 1, 2]], spade,
                                    background.image, 0.05)
    assert len(video.frames) == len(rgb) + 3
    originals = np.setdiff1d(np.arange(len(video.frames)), video.generated_at)
    assert np.array_equal(video.frames[originals], rgb)  # every original frame, in order
    assert np.array_equal(video.generated_at, [kept[0], kept[2] + 1, len(rgb) + 2])
    assert np.array_equal(video.origin[video.generated_at], [kept[0], kept[2], len(rgb) - 1])
    with pytest.raises(ValueError, match="do not fit"):
        build_adversarial_video(rgb, silhouettes, "insertion", np.array([n + 2]), stored[:1], spade,
                                background.image, 0.05)


def test_the_generated_frames_are_segmented_back_near_their_silhouettes(probe):
    rgb, silhouettes, stored, spade, background = probe
    video = build_adversarial_video(rgb, silhouettes, "alteration", np.array([2]), stored[[5]], spade,
                                    background.image, 0.05)
    t, mask = video.generated_at[0], video.masks[0]
    # An untrained SPADE paints grey, which background subtraction still mostly separates.
    assert iou(segment(video.frames[t], background), mask) > 0.5


@pytest.fixture(scope="module")
def job_world(tmp_path_factory):
    """Subjects 001-002 of the synthetic source (NM at 0 and 90 degrees) as a store, a tiny GaitSet and
    its features, an untrained SPADE, and one attack job over both views: nm-05/06 of each subject,
    one altered frame each, a different store frame per probe."""
    root = tmp_path_factory.mktemp("video-job")
    source = SyntheticVideos(CFG)
    with StoreWriter(root / "casia_b", CASIA_B) as writer:
        for subject in ("001", "002"):
            for seq in range(1, 7):
                for view in (0, 90):
                    key = SequenceKey(CASIA_B, subject, "nm", seq, view)
                    writer.add(key, preprocess_sequence(source.silhouettes(key))[0])
    store = FrameStore(root / "casia_b")
    torch.manual_seed(0)
    gaitset = build_gaitset(channels=(2, 4, 8), hidden_dim=8).eval()
    save_gaitset(gaitset, root / "gaitset.pt")
    rows = casia_b_protocol((1, 2)).sequences(store.index)
    write_features(extract_features(gaitset, store, rows), feature_index(rows), root / "f.npy", root / "f.parquet", {})
    arch = SpadeArch(size=32, ngf=1, ndf=2, nhidden=2, n_layers_d=2)
    save_spade(build_spade_generator(arch), build_spade_discriminator(arch), arch, root / "spade.pt",
               {"train_config": {"crop_margin": 0.05}})
    probes, generated = [], []
    for view in (0, 90):
        for subject in ("001", "002"):
            for seq in (5, 6):
                key = SequenceKey(CASIA_B, subject, "nm", seq, view)
                frames = store.sequence(int(store.select(subjects=[subject], seqs=[seq], views=[view]).index[0]))
                probes.append({**attack_row(subject, view, (subject, subject), views=(0, 90), seq=seq,
                                            sparsity="1/10"), "frame_count": len(frames), "altered": 1,
                               "positions": [0]})
                generated.append(np.asarray(frames[len(probes) % len(frames)])[None])
    table = write_attack_table(root / "nm.parquet", probes, views=(0, 90))
    np.savez(root / "nm.npz", frames=np.concatenate(generated), offsets=np.arange(len(probes) + 1),
             positions=np.zeros(len(probes), dtype=np.int64))
    return root, table


def run_clean(root, out, sensor=SensorPath(), seed=0, subjects_per_view=None):
    """The clean videos of every nm probe at both views (the fixture's attack table holds all of them)."""
    return run_clean_video_job(
        gaitset_weights=root / "gaitset.pt", features_array=root / "f.npy", features_index=root / "f.parquet",
        source=SyntheticVideos(CFG), condition="nm", views=[0, 90], subjects_per_view=subjects_per_view,
        out_table=out / "clean.parquet", test_subjects=(1, 2), sensor=sensor, seed=seed, device="cpu")


def run_job(root, table, out, views, clean=None):
    if clean is None:
        run_clean(root, out)
        clean = out / "clean.parquet"
    return run_video_attack_job(
        attack_table=table, attack_frames=table.with_suffix(".npz"), gaitset_weights=root / "gaitset.pt",
        spade_weights=root / "spade.pt", features_array=root / "f.npy", features_index=root / "f.parquet",
        clean_table=clean, source=SyntheticVideos(CFG), out_table=out / "v.parquet", out_example=out / "v.npz",
        test_subjects=(1, 2), device="cpu", views=views)


def test_the_clean_video_job_scores_each_probe_as_the_sensor_path_does_once_for_every_job(job_world, tmp_path):
    """The clean video is sensed once per (segmenter, condition) (rule clean_video): each probe's rank-1
    per gallery view is what sensing and scoring its clean video alone gives (the camera's stream 0 of
    the probe), and a video job copies them for its probes."""
    from gaitcore.evaluation.features import read_features
    from gaitcore.evaluation.rank1 import ProtocolGallery
    from gaitcore.models.gaitset import load_gaitset

    root, table = job_world
    sensor = SensorPath(camera=SensorModel(noise_sigma=4.0, jpeg_quality=80, footage_frames=3))
    clean = run_clean(root, tmp_path, sensor=sensor, seed=3)
    source, gaitset = SyntheticVideos(CFG), load_gaitset(root / "gaitset.pt")[0]
    features, index, _ = read_features(root / "f.npy", root / "f.parquet")
    gallery = ProtocolGallery.of(features, index, casia_b_protocol((1, 2)))
    assert len(clean) == 8 and set(clean["view"]) == {0, 90}
    for _, probe in clean.iterrows():
        key = SequenceKey(CASIA_B, probe["subject"], "nm", int(probe["seq"]), int(probe["view"]))
        segmenter = sensor.background(source.background_footage(key.view), np.random.default_rng([3, key.view]))
        rgb, exact = source.video(key)
        alone, _, kept = score_video(rgb, sensor, segmenter, gaitset, torch.device("cpu"), probe_rng(3, key, 0),
                                     source.artifacts(key), people=exact)
        nearest = gallery.nearest(alone[None], [0, 90])[0]
        assert [probe["video_clean_rank1_000"], probe["video_clean_rank1_090"]] == list(nearest)
        assert probe["video_clean_kept"] == kept
    job = run_video_attack_job(
        attack_table=table, attack_frames=table.with_suffix(".npz"), gaitset_weights=root / "gaitset.pt",
        spade_weights=root / "spade.pt", features_array=root / "f.npy", features_index=root / "f.parquet",
        clean_table=tmp_path / "clean.parquet", source=source, out_table=tmp_path / "v.parquet",
        out_example=tmp_path / "v.npz", test_subjects=(1, 2), device="cpu", views=[90], sensor=sensor, seed=3)
    by_key = clean.set_index(["subject", "seq", "view"])
    for _, row in job.iterrows():
        assert row["video_clean_rank1_000"] == by_key.loc[(row["subject"], row["seq"], row["view"]),
                                                          "video_clean_rank1_000"]


def test_a_clean_video_table_of_another_path_or_without_a_probe_stops_the_job(job_world, tmp_path):
    root, table = job_world
    run_clean(root, tmp_path / "knn", sensor=SensorPath(segmenter="knn"))
    with pytest.raises(DataError, match=r"clean\.parquet: was sensed or scored otherwise than this job "
                                        r"\(other segmenter\).*rule `clean_video`"):
        run_job(root, table, tmp_path / "knn", [90], clean=tmp_path / "knn" / "clean.parquet")
    run_clean(root, tmp_path / "seed", seed=1)
    with pytest.raises(DataError, match=r"\(other seed\)"):
        run_job(root, table, tmp_path / "seed", [90], clean=tmp_path / "seed" / "clean.parquet")
    run_clean(root, tmp_path / "few", subjects_per_view=1)  # one probe per view: 3 of the job's 4 at view 90 missing
    with pytest.raises(DataError, match=r"has no clean video of 3 probe\(s\) of this job.*subjects_per_view"):
        run_job(root, table, tmp_path / "few", [90], clean=tmp_path / "few" / "clean.parquet")
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(DataError, match=r"bad\.parquet: not a readable Parquet table"):
        run_job(root, table, tmp_path, [90], clean=tmp_path / "bad.parquet")


def test_a_job_makes_videos_of_the_chosen_views_only(job_world, tmp_path):
    root, table = job_world
    every = run_job(root, table, tmp_path / "every", None)
    chosen = run_job(root, table, tmp_path / "chosen", [90])
    assert every["view"].tolist() == [0] * 4 + [90] * 4 and chosen["view"].tolist() == [90] * 4
    # Each probe's video uses its own generated frame (offsets of the whole attack table), so a
    # probe's row does not depend on which views the job chose.
    pd.testing.assert_frame_equal(chosen, every[every["view"] == 90].reset_index(drop=True))
    stored, meta = read_video_attack_table(tmp_path / "chosen" / "v.parquet")
    assert meta["views"] == [90] and meta["gallery_views"] == [0, 90] and len(stored) == 4
    assert str(read_example(tmp_path / "chosen" / "v.npz")["label"]).startswith("001-nm-05-090 ")
    with pytest.raises(DataError, match=r"nm\.parquet: has no probe at view 54.*video_attack\.views"):
        run_job(root, table, tmp_path / "missing", [54, 90])


def _rows(kind, subjects, clean, attacked, video_clean, video_attacked, condition="nm"):
    rows = pd.DataFrame({"dataset": CASIA_B, "subject": subjects, "condition": condition, "seq": [5, 6],
                         "view": 90, "mode": f"{kind}_nontargeted_adversary", "kind": kind, "goal": "nontargeted",
                         "setting": "adversary", "sparsity": "1/10", "target": "", "segmentation_iou": [0.9, 0.7],
                         "segmenter": "median"})
    for view, j in ((0, 0), (90, 1), (180, 2)):
        paths = (("clean_", clean), ("", attacked), ("video_clean_", video_clean), ("video_", video_attacked))
        for prefix, values in paths:
            rows[f"{prefix}rank1_{view:03d}"] = [v[j] for v in values]
    return rows


def test_the_table_scores_both_paths_on_the_same_probes():
    metas = {CASIA_B: {"gallery_views": [0, 90, 180], "exclude_identical_view": True}}
    rows = _rows("alteration", ["075", "076"],
                 clean=[("075", "x", "075"), ("076", "x", "x")],       # 3 of 4 counted views right: 75 %
                 attacked=[("x", "075", "075"), ("x", "x", "x")],      # 1 of 4: 25 %
                 video_clean=[("075", "x", "075"), ("076", "x", "076")],  # 100 %
                 video_attacked=[("x", "x", "x"), ("076", "x", "x")])  # 25 %
    table = video_attack_table(rows, metas)
    assert len(table) == 1
    row = table.iloc[0]
    assert (row.natural_silhouettes, row.natural_video, row.attack_silhouettes, row.attack_video) == (75, 100, 25, 25)
    assert row.segmentation_iou == pytest.approx(0.8) and row.probes == 2
    assert (row.subjects, row.natural_probes, row.natural_subjects) == (2, 2, 2)
    assert list(table.columns) == COLUMNS
    rates = ["natural_silhouettes", "natural_video", "attack_silhouettes", "attack_video"]
    for rate in rates:  # two subjects: an interval that holds the value; all probes at 100 %: [100, 100]
        assert row[f"{rate}_low"] <= row[rate] <= row[f"{rate}_high"]
    assert (row.natural_video_low, row.natural_video_high) == (100.0, 100.0)
    markdown = video_attack_markdown(table)
    assert (f"| 1/10 | NM | 75.0 [{row.natural_silhouettes_low:.1f}, {row.natural_silhouettes_high:.1f}] | "
            "100.0 [100.0, 100.0] | 25.0 [") in markdown
    assert "| 0.800 | 2 | 2 | 2 | 2 |" in markdown


def test_the_table_intervals_are_attack_accuracys_and_count_the_probes_and_subjects():
    metas = {CASIA_B: {"gallery_views": [0, 90, 180], "exclude_identical_view": True}}
    hit, miss = ("075", "075", "075"), ("x", "x", "x")
    parts = []
    for i, subject in enumerate(["075", "076", "077", "078"]):
        own = tuple(subject for _ in range(3))
        parts.append(_rows("insertion", [subject, subject], clean=[own, own], attacked=[own, miss],
                           video_clean=[own, miss if i % 2 else own], video_attacked=[miss, hit])
                     .assign(seq=[5 + 2 * i, 6 + 2 * i]))
    rows = pd.concat(parts, ignore_index=True)
    table = video_attack_table(rows, metas)
    row = table.iloc[0]
    assert (row.probes, row.subjects, row.natural_probes, row.natural_subjects) == (8, 4, 8, 4)
    assert row.natural_silhouettes == 100.0 and (row.natural_silhouettes_low, row.natural_silhouettes_high) == (
        100.0, 100.0)
    assert row.attack_silhouettes == 50.0 and row.natural_video == 75.0
    long = attack_accuracy(rows, metas)
    mean = long[(long["probe_view"] == "mean") & (long["setting"] == "adversary")].iloc[0]
    assert (row.attack_silhouettes_low, row.attack_silhouettes_high) == (mean["ci_low"], mean["ci_high"])
    for rate in ("natural_video", "attack_video"):
        assert row[f"{rate}_low"] <= row[rate] <= row[f"{rate}_high"]


def test_missing_videos_are_data_errors_naming_the_file_and_the_fix(tmp_path):
    with pytest.raises(DataError, match="video folder does not exist"):
        CasiaBVideos(tmp_path / "no-videos", tmp_path)
    (tmp_path / "videos").mkdir()
    videos = CasiaBVideos(tmp_path / "videos", tmp_path / "silhouettes")
    with pytest.raises(DataError, match=r"001-nm-01-090\.avi: the video is missing.*spade.videos_root"):
        videos.video(KEY)
    with pytest.raises(DataError, match="no empty-scene footage of view 90"):
        videos.background_footage(90)
    with pytest.raises(DataError, match="spade.videos_root is not set"):
        video_source({"source": "png", "root": str(tmp_path)}, None)
    assert isinstance(video_source({"source": "synthetic", "synthetic": {"subjects": 2}}), SyntheticVideos)


def test_casia_b_videos_pair_avi_frames_with_the_silhouette_pngs(tmp_path):
    """The real-data reader: frame t of <root>/001-nm-01-090.avi pairs with ...-<t+1:03d>.png."""
    (tmp_path / "videos").mkdir()
    path = tmp_path / "videos" / "001-nm-01-090.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (80, 64))
    for value in (0, 100, 200):
        writer.write(np.full((64, 80, 3), value, dtype=np.uint8))
    writer.release()
    folder = tmp_path / "silhouettes" / "001" / "nm-01" / "090"
    folder.mkdir(parents=True)
    mask = np.zeros((64, 80), dtype=np.uint8)
    mask[10:50, 30:40] = 255
    for t in (1, 3):  # the release has no silhouette of frame 2
        cv2.imwrite(str(folder / f"001-nm-01-090-{t:03d}.png"), mask)
    videos = CasiaBVideos(tmp_path / "videos", tmp_path / "silhouettes", frame_shape=(64, 80))
    rgb, masks = videos.video(KEY)
    assert rgb.shape == (3, 64, 80, 3) and np.abs(rgb.mean(axis=(1, 2, 3)) - [0, 100, 200]).max() < 5
    assert np.array_equal(masks[0], mask) and not masks[1].any() and np.array_equal(masks[2], mask)
    with pytest.raises(DataError, match="frames of"):
        CasiaBVideos(tmp_path / "videos", tmp_path / "silhouettes").video(KEY)  # 240x320 expected


def test_the_clean_video_is_sensed_as_the_stored_silhouettes(probe, job_world, tmp_path):
    """Issue 21: the sensor path gives the clean video the store's segmentation errors, so GaitSet sees
    the stored sequence again (without them, another one)."""
    rgb, _, stored, _, _ = probe
    source, sensor = SyntheticVideos(CFG), SensorPath()
    segmenter = sensor.background(source.background_footage(KEY.view), np.random.default_rng(0))
    torch.manual_seed(0)
    gaitset = build_gaitset(channels=(2, 4, 8), hidden_dim=8).eval()
    rng = np.random.default_rng(0)
    sensed, _, kept = score_video(rgb, sensor, segmenter, gaitset, torch.device("cpu"), rng, source.artifacts(KEY))
    bare, _, kept_bare = score_video(rgb, sensor, segmenter, gaitset, torch.device("cpu"), rng)
    store = sequence_features(gaitset, stored, torch.device("cpu"))
    assert kept == len(stored) and kept_bare > kept  # the store's empty frames are sensed empty too
    assert np.linalg.norm(sensed - store) < 0.5 * np.linalg.norm(bare - store)  # the victims' distance
    root, table = job_world
    run_job(root, table, tmp_path, None)
    stored_table, meta = read_video_attack_table(tmp_path / "v.parquet")
    assert set(stored_table["segmenter"]) == {"median"} and meta["segmenter"] == "median"
    assert meta["camera"] == {"noise_sigma": 0.0, "jpeg_quality": None, "dilate": 0, "feather": 0.0,
                              "footage_frames": 1}
    assert meta["sensed_in_windows"] is True  # the synthetic source knows where its frames differ


@pytest.mark.parametrize("kind", ["alteration", "insertion"])
def test_the_windows_cover_every_pixel_where_an_attacked_frame_differs_from_the_empty_scene(probe, kind):
    """The video job senses a synthetic probe in windows around where_frames_differ: the source's exact
    masks and each generated frame's pasted region must hold every pixel that differs from the scene."""
    rgb, silhouettes, stored, spade, background = probe
    _, exact = SyntheticVideos(CFG).video(KEY)
    camera = SensorModel(dilate=2, feather=1.5)
    generated = np.stack([stored[1], stored[4]])
    video = build_adversarial_video(rgb, silhouettes, kind, np.array([1, 4]), generated, spade,
                                    background.image, 0.05, camera)
    people = where_frames_differ(video, exact, camera)
    differs = (video.frames != background.image).any(-1)
    assert differs[video.generated_at].any() and not (differs & (people == 0)).any()
    grown = people[video.generated_at] > 0
    assert (grown.sum((1, 2)) > (video.masks > 0).sum((1, 2))).all()  # the paste reaches past L_a


def test_the_table_has_a_block_per_segmenter_in_their_order():
    metas = {CASIA_B: {"gallery_views": [0, 90, 180], "exclude_identical_view": True}}
    rows = _rows("alteration", ["075", "076"], [("075", "075", "075"), ("076", "076", "076")],
                 [("001", "001", "001")] * 2, [("075", "075", "075")] * 2, [("001", "001", "001")] * 2)
    both = pd.concat([rows.assign(segmenter="knn"), rows.assign(segmenter="median")], ignore_index=True)
    table = video_attack_table(both, metas)
    assert table["segmenter"].tolist() == ["median", "knn"]
    assert table.drop(columns="segmenter").iloc[0].equals(table.drop(columns="segmenter").iloc[1])
    markdown = video_attack_markdown(table)
    assert markdown.index("(median segmenter)") < markdown.index("(knn segmenter)")
    with pytest.raises(ValueError, match="name no segmenter"):
        video_attack_table(rows.drop(columns="segmenter"), metas)


def test_the_sensor_paths_findings_compare_the_same_probes(tmp_path):
    """findings.md's two sensor-path rows per segmenter and cell (docs/findings.md): clean silhouettes
    minus clean video (within +-5 holds) and clean video minus attacked video (above 20 holds)."""
    from gaitcore.experiments.findings import findings_table
    from gaitcore.experiments.video_attack import META_KEY
    from gaitcore.utils.tables import write_parquet_with_meta

    meta = {"gallery_views": [0, 90, 180], "exclude_identical_view": True}
    miss = ("x", "x", "x")
    parts = []
    for i, subject in enumerate(["075", "076", "077", "078"]):
        own = tuple(subject for _ in range(3))
        parts.append(_rows("alteration", [subject, subject], clean=[own, own], attacked=[miss, miss],
                           video_clean=[own, own], video_attacked=[miss, own if i == 0 else miss])
                     .assign(seq=[5 + 2 * i, 6 + 2 * i]))
    rows = pd.concat(parts, ignore_index=True)
    paths = [tmp_path / f"{segmenter}.parquet" for segmenter in ("median", "knn")]
    for path in paths:
        write_parquet_with_meta(rows.assign(segmenter=path.stem), path, META_KEY, meta)
    attack_table = write_attack_table(tmp_path / "attack.parquet", [attack_row("075", 90, ("075", "075"))])
    table = findings_table([attack_table], video_paths=paths)
    video = table[table["comparison"].str.contains("segmenter")]
    assert len(video) == 4 and video["comparison"].str.endswith("(median segmenter)").sum() == 2
    clean = video[video["finding"] == "the clean video reads as the clean silhouettes"].iloc[0]
    assert (clean.estimate, clean.low, clean.high, clean.verdict) == (0.0, 0.0, 0.0, "holds")
    survives = video[video["finding"] == "the attack survives the sensor path"].iloc[0]
    assert survives.estimate == pytest.approx(100 - 100 / 8) and survives.verdict == "holds"
    assert (survives.probes, survives.subjects) == (8, 4)


def test_the_clean_video_is_judged_once_per_segmenter_and_cell_over_every_modes_probes(tmp_path):
    """Each mode's video job senses the same probes' clean video (same seed, same path): findings.md
    judges "the clean video reads as the clean silhouettes" once per (segmenter, sparsity, condition),
    each probe counted once, and stops when the jobs disagree (jobs of different runs)."""
    from gaitcore.experiments.findings import findings_table
    from gaitcore.experiments.video_attack import META_KEY
    from gaitcore.utils.tables import write_parquet_with_meta

    meta = {"gallery_views": [0, 90, 180], "exclude_identical_view": True}
    own, miss = [("075",) * 3, ("076",) * 3], [("x",) * 3] * 2
    video_clean = [("075",) * 3, ("x", "x", "076")]  # the second probe's clean video fails 2 of 3 views
    paths = []
    for kind in ("alteration", "insertion"):
        paths.append(tmp_path / f"{kind}.parquet")
        write_parquet_with_meta(_rows(kind, ["075", "076"], own, miss, video_clean, miss), paths[-1], META_KEY, meta)
    attack_table = write_attack_table(tmp_path / "attack.parquet", [attack_row("075", 90, ("075", "075"))])
    table = findings_table([attack_table], video_paths=paths)
    clean = table[table["finding"] == "the clean video reads as the clean silhouettes"]
    assert len(clean) == 1 and clean.iloc[0].kind == "alteration nontargeted + insertion nontargeted"
    assert (clean.iloc[0].probes, clean.iloc[0].subjects) == (2, 2)
    assert clean.iloc[0].estimate == pytest.approx((0 + 50) / 2)  # 100 - 100 and 100 - 50 (one of 2 counted views)
    assert (table["finding"] == "the attack survives the sensor path").sum() == 2
    other = [("075",) * 3, ("076",) * 3]  # the insertion job's clean video reads otherwise
    write_parquet_with_meta(_rows("insertion", ["075", "076"], own, miss, other, miss), paths[1], META_KEY, meta)
    with pytest.raises(ValueError, match=r"clean video \(median segmenter, nm, S = 1/10\) of probe .*076.*differently"):
        findings_table([attack_table], video_paths=paths)
