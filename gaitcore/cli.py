"""Command line for the data stage outside Snakemake.

    gaitcore synthesize --dataset casia_b --out DIR     write a synthetic silhouette tree in the
                                                        real dataset's layout
    gaitcore preprocess --dataset casia_b --source png --root DIR --out STORE
                                                        build a store from any source
"""

from __future__ import annotations

import argparse
import json
import sys

from gaitcore.data.build import SOURCES, SourceSpec, build_store
from gaitcore.data.layout import CASIA_B, DATASETS
from gaitcore.data.synthetic import SyntheticConfig, write_casia_a_tree, write_casia_b_tree
from gaitcore.errors import GaitcoreError
from gaitcore.utils.logs import setup_logging


def _synthetic_overrides(args: argparse.Namespace) -> dict[str, int]:
    names = ("subjects", "seed", "frames_min", "frames_max")
    return {name: getattr(args, name) for name in names if getattr(args, name) is not None}


def _add_synthetic_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--subjects", type=int, help="number of synthetic subjects")
    parser.add_argument("--seed", type=int, help="seed of the synthetic world")
    parser.add_argument("--frames-min", dest="frames_min", type=int)
    parser.add_argument("--frames-max", dest="frames_max", type=int)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gaitcore", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    synth = commands.add_parser("synthesize", help="write a synthetic PNG tree in a real layout")
    synth.add_argument("--dataset", choices=DATASETS, default=CASIA_B)
    synth.add_argument("--out", required=True, help="new folder for the tree")
    synth.add_argument("--workers", type=int, default=1)
    _add_synthetic_options(synth)

    prep = commands.add_parser("preprocess", help="build a preprocessed store")
    prep.add_argument("--dataset", choices=DATASETS, default=CASIA_B)
    prep.add_argument("--source", choices=SOURCES, default="synthetic")
    prep.add_argument("--root", help="dataset folder (png and opengait sources)")
    prep.add_argument(
        "--strict",
        action="store_true",
        help="missing sequences, sequences without a usable frame and non-binary frames are errors",
    )
    prep.add_argument("--out", required=True, help="folder for the store")
    prep.add_argument("--workers", type=int, default=1)
    _add_synthetic_options(prep)

    args = parser.parse_args(argv)
    setup_logging()
    try:
        if args.command == "synthesize":
            cfg = SyntheticConfig.for_dataset(args.dataset, **_synthetic_overrides(args))
            writer = write_casia_b_tree if args.dataset == CASIA_B else write_casia_a_tree
            writer(cfg, args.out, workers=args.workers)
        else:
            spec = SourceSpec(
                dataset=args.dataset,
                source=args.source,
                root=args.root,
                strict=args.strict,
                synthetic=_synthetic_overrides(args),
            )
            summary = build_store(spec, args.out, workers=args.workers)
            print(json.dumps({k: summary[k] for k in ("sequences", "seconds")}))
    except GaitcoreError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
