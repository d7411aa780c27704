"""Build time and memory of the CSR connectivity kernels (:mod:`neuromorph.kernels.connect`).

For each ``N`` (``N x N`` pairs at ``p = 80 / N``, about ``80 N`` synapses) a fresh
subprocess loads the compiled kernels (numba cache), then measures on one core:

* ``bernoulli_csr`` build time (best of ``--repeat``, wall clock and thread CPU time,
  the latter less sensitive to a busy machine) and its peak resident memory
  above the level before the call, in bytes per synapse (Linux: the peak is reset
  through ``/proc/self/clear_refs`` and read from ``VmHWM``; elsewhere the
  ``ru_maxrss`` increase, which can under-report);
* ``column_index`` (the transpose index) time and peak memory likewise.

Run::

    python experiments/connect_speed.py [--sizes 64000 256000] [--repeat 3]

Prints one line per size; nothing is written.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time


def _rss(field):
    """``VmRSS`` / ``VmHWM`` of this process in bytes (None off Linux)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _peak_during(fn):
    """``(result, extra peak bytes)`` of ``fn()`` over the resident memory before it."""
    import gc
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")                      # reset VmHWM to the current RSS
        before, linux = _rss("VmRSS"), True
    except OSError:
        before, linux = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, False
    out = fn()
    after = _rss("VmHWM") if linux else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return out, after - before


def child(n, repeat):
    from neuromorph.kernels.connect import bernoulli_csr, column_index
    p = 80.0 / n
    bernoulli_csr(100, 100, 0.1, 1)           # load the compiled kernels
    column_index(*bernoulli_csr(100, 100, 0.1, 1), 100)
    (rowptr, post), mem = _peak_during(lambda: bernoulli_csr(n, n, p, 1))
    n_syn = int(rowptr[-1])
    times, cpu = [], []
    for r in range(repeat):
        del rowptr, post
        t0, c0 = time.perf_counter(), time.thread_time()
        rowptr, post = bernoulli_csr(n, n, p, 1 + r)
        times.append(time.perf_counter() - t0)
        cpu.append(time.thread_time() - c0)
    _, cmem = _peak_during(lambda: column_index(rowptr, post, n))
    ctimes, ccpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.thread_time()
        column_index(rowptr, post, n)
        ctimes.append(time.perf_counter() - t0)
        ccpu.append(time.thread_time() - c0)
    return dict(n=n, p=p, synapses=n_syn, build_s=min(times), build_cpu_s=min(cpu),
                build_bytes_per_syn=mem / n_syn, column_s=min(ctimes), column_cpu_s=min(ccpu),
                column_bytes_per_syn=cmem / n_syn)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[64000, 256000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=None,
                    help="folder for results.json (default: print only)")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.repeat)))
        return
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    records = []
    for n in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--child", str(n), "--repeat",
                              str(args.repeat)], env=env, check=True, capture_output=True,
                             text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"N={r['n']:>7} p={r['p']:.3g} synapses={r['synapses']:>10,}  "
              f"bernoulli_csr {r['build_s']:.3f} s (cpu {r['build_cpu_s']:.3f} s), "
              f"{r['build_bytes_per_syn']:.2f} B/syn  |  column_index {r['column_s']:.3f} s "
              f"(cpu {r['column_cpu_s']:.3f} s), {r['column_bytes_per_syn']:.2f} B/syn")
        records.append(r)
    if args.out:
        from pathlib import Path
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "results.json").write_text(json.dumps(records, indent=1))


if __name__ == "__main__":
    main()
