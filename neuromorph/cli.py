"""The ``neuromorph`` console command."""
from __future__ import annotations

import argparse
import json
import sys

from . import __version__


def _demo(args):
    from .demo import run_demo
    metrics = run_demo(args.out, duration=args.duration, seed=args.seed,
                       progress=not args.quiet)
    print(json.dumps(metrics, indent=2))
    print(f"figure written to {args.out}/demo.png")
    return 0


def _bench(args):
    from .bench import main as bench_main
    return bench_main(args.bench_args)


def build_parser():
    p = argparse.ArgumentParser(
        prog="neuromorph",
        description="neuromorph: event-driven spiking networks that learn while they run.")
    p.add_argument("--version", action="version", version=f"neuromorph {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    d = sub.add_parser("demo", help="run a small STDP network and write a raster + weight figure")
    d.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    d.add_argument("--duration", type=float, default=30_000.0,
                   help="simulated time in ms (default: 30000)")
    d.add_argument("--seed", type=int, default=1)
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.set_defaults(func=_demo)
    b = sub.add_parser("bench", help="benchmarks against Brian2 (see `neuromorph bench -h`)",
                       add_help=False)
    b.add_argument("bench_args", nargs=argparse.REMAINDER)
    b.set_defaults(func=_bench)
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
