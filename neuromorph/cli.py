"""The ``neuromorph`` console command."""
from __future__ import annotations

import argparse
import json
import math
import os
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


def _experiments(args):
    from .experiments_registry import ExperimentsNotFound, list_experiments
    try:
        exps = list_experiments()
    except ExperimentsNotFound as e:
        print(f"neuromorph: {e}", file=sys.stderr)
        return 2
    width = max((len(n) for n in exps), default=0)
    for name, exp in exps.items():
        print(f"{name:<{width}}  {exp['description']}")
    return 0


def _run_seeds(args, out):
    """``run NAME --seeds ...``: one run per seed into ``OUT/seed<k>``, here or on Dask."""
    from .experiments_registry import command, run_experiment
    from .sweeps import parse_seeds, run_all
    seeds = parse_seeds(args.seeds)
    calls = [(args.name, os.path.join(out, f"seed{s}"), s, args.quick) for s in seeds]
    for name, folder, seed, quick in calls:
        command(name, folder, seed=seed, quick=quick)  # validate all first
    rcs = run_all(run_experiment, calls, scheduler=args.scheduler)
    for (_, folder, seed, _), rc in zip(calls, rcs):
        print(f"seed {seed}: exit {rc}, summary written to {folder}/summary.md")
    return max(rcs)


def _run(args):
    from .experiments_registry import (ExperimentsNotFound, UnknownExperiment, command,
                                       run_experiment)
    from .sweeps import SchedulerUnreachable
    out = args.out or f"{args.name.removesuffix('.py')}_out"
    if args.seeds is not None or args.scheduler is not None:
        if args.seed is not None and args.seeds is not None:
            print("neuromorph: give --seed or --seeds, not both", file=sys.stderr)
            return 2
        if args.seeds is None:
            args.seeds = str(args.seed) if args.seed is not None else None
        try:
            if args.seeds is None:
                raise ValueError("--scheduler needs --seeds (or --seed)")
            return _run_seeds(args, out)
        except (ExperimentsNotFound, UnknownExperiment, ValueError,
                SchedulerUnreachable) as e:
            msg = e.args[0] if isinstance(e, UnknownExperiment) else e
            print(f"neuromorph: {msg}", file=sys.stderr)
            return 2
    try:
        command(args.name, out, seed=args.seed, quick=args.quick)  # validate first
        rc = run_experiment(args.name, out, seed=args.seed, quick=args.quick)
    except (ExperimentsNotFound, UnknownExperiment, ValueError) as e:
        msg = e.args[0] if isinstance(e, UnknownExperiment) else e
        print(f"neuromorph: {msg}", file=sys.stderr)
        return 2
    print(f"summary written to {out}/summary.md")
    return rc


def _compare(args):
    from .compare import run_compare
    from .sweeps import SchedulerUnreachable
    try:
        path = run_compare(args.out, quick=args.quick, seeds=args.seeds,
                           families=args.families, jobs=args.jobs, scheduler=args.scheduler)
    except (ValueError, SchedulerUnreachable) as e:
        print(f"neuromorph: {e}", file=sys.stderr)
        return 2
    print(f"report written to {path}")
    return 0


def _nest(args):
    from .nest_cli import run_saved_network
    try:
        summary = run_saved_network(args.network, args.out, duration=args.duration,
                                    threads=args.threads, poisson=args.poisson,
                                    zero_delay=args.zero_delay)
    except (OSError, ValueError, TypeError, RuntimeError) as e:
        print(f"neuromorph: {e}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=2))
    return 0


def _deploy(args):
    import time

    import neuromorph as nm
    from .datasets import load_digits_split
    from .deploy.api import load_learner

    try:
        model = load_learner(args.checkpoint)
        backends = {"neuromorph": ["neuromorph"], "loihi": ["neuromorph", "loihi"],
                    "lava": ["neuromorph", "loihi", "lava"]}[args.backend]
        # presentation options of learners that present samples for a time; nm.deploy
        # refuses them for the others
        timing = {k: getattr(args, k) for k in ("presentation", "rest", "max_retries")
                  if getattr(args, k) is not None}
        # --fixed-point states what "loihi" and "lava" run; nm.deploy refuses it with
        # the float backend
        deps = {b: nm.deploy(model, backend=b,
                             fixed_point=True if b == args.backend and args.fixed_point
                             else None, **timing)
                for b in backends}  # every check before any run
    except (ValueError, TypeError) as e:
        print(f"neuromorph: {e}", file=sys.stderr)
        return 2
    _, X, _, y = load_digits_split()
    X, y = X[:args.samples], y[:args.samples]
    print(f"{type(model).__name__} on {len(X)} digits test samples")
    print(f"  learner predict        accuracy {model.score(X, y):.4f}")
    spec = deps[args.backend].spec
    if hasattr(spec, "presentation"):  # the deployment's, which may differ from predict's
        print(f"  deployed: {spec.presentation:g} ms presentation, {spec.rest_ms:g} ms rest, "
              f"up to {spec.max_retries} re-presentations")
    names = {"neuromorph": "float (core)", "loihi": "fixed point (core)",
             "lava": "Lava (Loihi 2 sim)"}
    for b, dep in deps.items():
        t0 = time.perf_counter()
        acc = dep.score(X, y)
        print(f"  {names[b]:<22} accuracy {acc:.4f}  ({time.perf_counter() - t0:.1f} s)")
    for note in deps[args.backend].spec.notes:
        print(f"  note: {note}")
    if args.estimate:
        est = deps[args.backend].estimate(X[:args.estimate_samples], hardware=args.estimate)
        print(est.table())
    return 0


def _flag_number(low, low_open=False, integer=False, unit=""):
    """argparse type: a finite number (an integer if ``integer``) ``>= low`` (``> low``
    if ``low_open``); argparse names the flag in its message."""
    bound = f"{'>' if low_open else '>='} {low}{' ' + unit if unit else ''}"

    def parse(text):
        try:
            value = int(text) if integer else float(text)
        except ValueError:
            kind = "an integer" if integer else "a number"
            raise argparse.ArgumentTypeError(f"expected {kind} {bound}, got {text!r}") \
                from None
        if not (math.isfinite(value) and (value > low if low_open else value >= low)):
            finite = "" if math.isfinite(value) else "finite and "
            raise argparse.ArgumentTypeError(f"must be {finite}{bound}, got {text}")
        return value
    return parse


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
    e = sub.add_parser("experiments", help="list the experiment scripts of experiments/")
    e.set_defaults(func=_experiments)
    r = sub.add_parser("run", help="run one experiment (see `neuromorph experiments`) and "
                                   "write its figures, JSON and summary.md to --out")
    r.add_argument("name", help="experiment name, e.g. stdp_window")
    r.add_argument("--out", default=None, help="output folder (default: NAME_out)")
    r.add_argument("--seed", type=int, default=None,
                   help="seed (only for experiments that take one; default: the script's)")
    r.add_argument("--quick", action="store_true", help="the script's reduced smoke run")
    r.add_argument("--seeds", default=None, metavar="SEEDS",
                   help="several runs: a range (0-4) or a list (0,2,7); each writes to "
                        "OUT/seed<k>")
    r.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the seeds on the Dask scheduler at ADDRESS (tcp://HOST:8786)")
    r.set_defaults(func=_run)
    c = sub.add_parser("compare", help="rate-vs-spike comparison of every learning family "
                                       "on digits; writes report.md")
    c.add_argument("--out", default="compare_out", help="output folder (default: compare_out)")
    c.add_argument("--quick", action="store_true",
                   help="1 seed, reduced epochs and network sizes (a few minutes)")
    c.add_argument("--seeds", type=int, default=None, help="seeds (default 5; 1 with --quick)")
    c.add_argument("--jobs", type=int, default=1, help="fits run in parallel (default 1)")
    c.add_argument("--families", nargs="+", default=None, metavar="NAME",
                   help="subset of families (default: all)")
    c.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the fits on the Dask scheduler at ADDRESS (tcp://HOST:8786)")
    c.set_defaults(func=_compare)
    n = sub.add_parser("nest", help="run a saved network (net.save) on NEST and write its "
                                    "spikes and learned weights to an .npz file")
    n.add_argument("network", metavar="NETWORK_FILE", help="file written by net.save(...)")
    n.add_argument("--duration", type=float, required=True, help="simulated time in ms")
    n.add_argument("--threads", type=int, default=1, help="NEST threads (default 1)")
    n.add_argument("--out", default="spikes.npz", help="output file (default spikes.npz)")
    n.add_argument("--poisson", choices=("exact", "generator"), default="exact",
                   help="Poisson inputs: neuromorph's own trains or NEST's generators")
    n.add_argument("--zero-delay", choices=("warn", "one_step", "error"), default="warn",
                   help="delay-0 synapses between LIF neurons (NEST's minimum is one step)")
    n.set_defaults(func=_nest)
    from .deploy import BACKENDS
    from .deploy.energy import HARDWARE
    dp = sub.add_parser("deploy", help="deploy a saved spiking learner; print accuracies "
                                       "and an energy table")
    dp.add_argument("checkpoint", help="a learner's save() file (.npz)")
    dp.add_argument("--backend", default="neuromorph", choices=BACKENDS,
                    help="loihi: also the fixed-point network; lava: also Lava "
                         "(fixed point; about 5 ms per step)")
    dp.add_argument("--fixed-point", action="store_true",
                    help="Loihi fixed point (what --backend loihi and lava run; an error "
                         "with --backend neuromorph, which runs float64)")
    dp.add_argument("--samples", type=int, default=100,
                    help="digits test samples scored (default 100)")
    dp.add_argument("--estimate", default=None, choices=sorted(HARDWARE),
                    help="energy and latency per inference on this SANA-FE hardware")
    dp.add_argument("--estimate-samples", type=int, default=10,
                    help="samples of the energy estimate (default 10)")
    dp.add_argument("--presentation", type=_flag_number(0, low_open=True, unit="ms"),
                    default=None, metavar="MS",
                    help="learners that present each sample for a time (STDPClassifier): "
                         "presentation per sample, a multiple of the learner's dt (> 0 ms; "
                         "default its t_readout; shorter makes Lava runs shorter)")
    dp.add_argument("--rest", type=_flag_number(0, unit="ms"), default=None, metavar="MS",
                    help="silence after each presentation (>= 0 ms; default the "
                         "learner's t_rest)")
    dp.add_argument("--max-retries", type=_flag_number(0, integer=True), default=None,
                    metavar="N", help="re-presentations at a higher rate when too few "
                                      "spikes (>= 0; default the learner's max_retries)")
    dp.set_defaults(func=_deploy)
    return p


def main(argv=None):
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # its own parser, help included (argparse.REMAINDER
        return _bench(argparse.Namespace(bench_args=argv[1:]))  # cannot pass -h on)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
