"""Where a pipeline run's time went: its per-job benchmark files, summed per kind of job.

``python -m gaitcore.bench.job_times results/benchmarks [--wall SECONDS]`` reads every Snakemake
benchmark file (``*.tsv``: the job's wall seconds ``s``, peak memory ``max_rss`` in MB, CPU seconds
``cpu_time``) under the folder and prints a Markdown table, one row per kind of job, largest total
first:

* attack jobs (``attacks/<dataset>/<mode>/<S>/<condition>``) per dataset and mode, so the
  adversary, its random control, targeted modes, variants and the baselines show apart; attacks on
  validation subjects (``validation/attacks/...``) and video attacks per mode likewise;
* every other job by its benchmark path (``wgan/train``, ``gaitset/extract_casia_b`` ...).

With ``--wall`` (the run's wall-clock seconds) it also prints how many of the machine's core-seconds
the jobs used. Nothing here is timed by a test: the numbers are the run's own.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

COLUMNS = ["jobs", "total_s", "mean_s", "max_s", "max_rss_mb", "cpu_s"]


def job_kind(relative: Path) -> str:
    """The kind of job a benchmark file (path relative to the benchmarks folder) belongs to."""
    parts = relative.with_suffix("").parts
    if parts[0] == "attacks" and len(parts) == 5:
        return f"attack {parts[2]} ({parts[1]})"
    if parts[:2] == ("validation", "attacks") and len(parts) == 6:
        return f"attack_validation {parts[3]}"
    if parts[0] == "video_attacks" and len(parts) == 6:  # <segmenter>/<dataset>/<mode>/<S>/<condition>
        return f"video_attack {parts[3]} ({parts[1]})"
    if parts[0] == "video_attacks" and len(parts) == 5 and parts[3] == "clean":  # <segmenter>/<dataset>/clean/<c>
        return f"clean_video ({parts[1]})"
    if parts[0] == "video_attacks" and len(parts) == 5:  # before the segmenters: <dataset>/<mode>/<S>/<condition>
        return f"video_attack {parts[2]}"
    if parts[0] == "random_control_sources" and len(parts) == 5:
        return f"random_control_sources_job ({parts[1]})"
    if parts[0] == "preprocess":
        return "preprocess"
    return "/".join(parts)


def job_times(root: str | Path) -> pd.DataFrame:
    """Per kind of job under ``root``: number of jobs, total, mean and largest wall seconds, peak RSS
    and CPU seconds; sorted by total, largest first. A ValueError names a folder without benchmarks."""
    root = Path(root)
    files = sorted(root.rglob("*.tsv"))
    if not files:
        raise ValueError(f"{root}: no benchmark file (*.tsv); run the pipeline first, or point at its "
                         "results/benchmarks folder")
    records = []
    for path in files:
        table = pd.read_csv(path, sep="\t")
        if table.empty:
            continue
        row = table.iloc[-1]  # Snakemake appends a row per repeat; the last is the run's
        records.append({"kind": job_kind(path.relative_to(root)), "s": float(row["s"]),
                        "max_rss": pd.to_numeric(row.get("max_rss"), errors="coerce"),
                        "cpu_time": pd.to_numeric(row.get("cpu_time"), errors="coerce")})
    frame = pd.DataFrame.from_records(records)
    grouped = frame.groupby("kind").agg(jobs=("s", "size"), total_s=("s", "sum"), mean_s=("s", "mean"),
                                        max_s=("s", "max"), max_rss_mb=("max_rss", "max"), cpu_s=("cpu_time", "sum"))
    return grouped.sort_values("total_s", ascending=False)[COLUMNS]


def job_times_markdown(table: pd.DataFrame, wall: float | None = None, cores: int = 2) -> str:
    """The table as Markdown, with the totals (and, given the run's ``wall`` seconds, the share of
    ``cores`` x wall the jobs filled)."""
    lines = ["| job | jobs | total s | mean s | max s | peak RSS MB | CPU s |", "|---|---:|---:|---:|---:|---:|---:|"]
    for kind, row in table.iterrows():
        lines.append(f"| {kind} | {int(row.jobs)} | {row.total_s:.0f} | {row.mean_s:.1f} | {row.max_s:.1f} | "
                     f"{row.max_rss_mb:.0f} | {row.cpu_s:.0f} |")
    total = float(table["total_s"].sum())
    lines += ["", f"{int(table['jobs'].sum())} jobs, {total:.0f} job-seconds ({total / 60:.1f} minutes)."]
    if wall:
        lines.append(f"Wall clock {wall:.0f} s ({wall / 60:.1f} minutes) on {cores} cores: the jobs' seconds fill "
                     f"{100 * total / (cores * wall):.0f} % of {cores} x the wall clock (jobs of several threads "
                     "count once).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmarks", help="a run's benchmarks folder, e.g. results/benchmarks")
    parser.add_argument("--wall", type=float, help="the run's wall-clock seconds")
    parser.add_argument("--cores", type=int, default=2, help="the cores the run was given (--cores)")
    args = parser.parse_args(argv)
    print(job_times_markdown(job_times(args.benchmarks), args.wall, args.cores))


if __name__ == "__main__":
    main()
