"""The per-kind job-time table from a run's benchmark files (known answers, errors)."""

import pytest

from gaitcore.bench.job_times import job_kind, job_times, job_times_markdown, main

HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def bench(root, relative, seconds, rss=100.0, cpu=None):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{seconds}\t0:00:01\t{rss}\t0\t0\t0\t0\t0\t0\t{seconds if cpu is None else cpu}\n")


def test_jobs_are_summed_per_kind_largest_first(tmp_path, capsys):
    bench(tmp_path, "attacks/casia_b/alteration_nontargeted_adversary/1-40/nm.tsv", 30, rss=500)
    bench(tmp_path, "attacks/casia_b/alteration_nontargeted_adversary/1-10/bg.tsv", 50, rss=700)
    bench(tmp_path, "attacks/casia_b/alteration_nontargeted_random/1-40/nm.tsv", 4)
    bench(tmp_path, "validation/attacks/casia_b/alteration_nontargeted_adversary+fp32/1-40/nm.tsv", 9)
    bench(tmp_path, "wgan/train.tsv", 60, cpu=110)
    bench(tmp_path, "preprocess/casia_b.tsv", 5)
    table = job_times(tmp_path)
    assert table.index.tolist() == ["attack alteration_nontargeted_adversary (casia_b)", "wgan/train",
                                    "attack_validation alteration_nontargeted_adversary+fp32", "preprocess",
                                    "attack alteration_nontargeted_random (casia_b)"]
    adversary = table.iloc[0]
    assert (adversary.jobs, adversary.total_s, adversary.mean_s, adversary.max_s, adversary.max_rss_mb) == (
        2, 80, 40, 50, 700)
    assert table.loc["wgan/train", "cpu_s"] == 110
    text = job_times_markdown(table, wall=100)
    assert "6 jobs, 158 job-seconds (2.6 minutes)." in text and "fill 79 % of 2 x the wall clock" in text
    main([str(tmp_path), "--wall", "100"])
    assert capsys.readouterr().out.strip() == text


def test_kinds_of_video_and_other_jobs():
    from pathlib import Path
    assert job_kind(Path("video_attacks/casia_b/insertion_nontargeted_adversary/1-10/cl.tsv")) == \
        "video_attack insertion_nontargeted_adversary"
    assert job_kind(Path("video_attacks/knn/casia_b/insertion_nontargeted_adversary/1-10/cl.tsv")) == \
        "video_attack insertion_nontargeted_adversary (knn)"
    assert job_kind(Path("video_attacks/mog2/casia_b/clean/bg.tsv")) == "clean_video (mog2)"
    assert job_kind(Path("random_control_sources/casia_b/alteration_nontargeted_random/1-40/nm.tsv")) == \
        "random_control_sources_job (casia_b)"
    assert job_kind(Path("gaitset/extract_casia_a.tsv")) == "gaitset/extract_casia_a"


def test_a_folder_without_benchmarks_says_what_to_point_at(tmp_path):
    with pytest.raises(ValueError, match="no benchmark file .*results/benchmarks folder"):
        job_times(tmp_path)
