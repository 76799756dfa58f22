"""The sensor path's rows of the findings table for a run that stopped at ``aggregate_video_attacks``.

``findings_table`` (the rule ``findings``' own code, docs/findings.md) on the run's CASIA-B attack
tables and video attack tables, keeping the rows of the two sensor-path rules
(``clean_video_reads_as_silhouettes``, ``survives_sensor_path``); seed 0 as in config/config.yaml.

    PYTHONPATH=. python docs/measurements/2026-12-07-sensed-store-run/findings_video.py RESULTS OUT.csv
"""

import sys
from pathlib import Path

from gaitcore.experiments.findings import RULES, findings_table

results, out = Path(sys.argv[1]), Path(sys.argv[2])
attacks = sorted(str(p) for p in results.glob("attacks/casia_b/*/*/*.parquet"))
videos = sorted(str(p) for p in results.glob("video_attacks/*/casia_b/*/*/*.parquet"))
table = findings_table(attacks, video_paths=videos, seed=0)
rows = table[table["finding"].isin([RULES[key].finding for key in ("clean_video_reads_as_silhouettes",
                                                                    "survives_sensor_path")])]
rows.to_csv(out, index=False)
print(f"{len(attacks)} attack tables, {len(videos)} video tables")
print(rows[["kind", "condition", "comparison", "estimate", "low", "high", "probes", "verdict"]].to_string(index=False))
