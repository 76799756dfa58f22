"""The attack benchmark's victim comparison prints one cost line per victim, GaitSet's the unit."""

import re

from gaitcore.bench.attack import main


def test_compare_victims_prints_each_victims_cost_against_gaitsets(capsys):
    main(["--compare-victims", "--probes", "1", "--iterations", "1", "--gaitset-channels", "2", "4", "8",
          "--wgan-dim", "2"])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("victim-cost")]
    pattern = r"victim-cost (\w+): [0-9.]+ ms per sequence-iteration \(([0-9.]+)x GaitSet's\)"
    parsed = [re.fullmatch(pattern, line).groups() for line in lines]
    assert [name for name, _ in parsed] == ["GaitSet", "GaitPart", "GaitGL"]
    assert parsed[0][1] == "1.00" and all(float(ratio) > 0 for _, ratio in parsed)
