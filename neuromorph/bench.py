"""Benchmarks: neuromorph against Brian2 on the same networks, in one invocation.

Two networks (see issue 3, item 9):

``cuba``
    Brian2's CUBA example (Vogels & Abbott 2005): ``N`` LIF neurons, 80 % excitatory,
    connection probability ``p = 0.02 * 4000 / N`` (about 80 synapses per neuron),
    current jumps ``w_exc = 1.62`` mV / ``w_inh = -9`` mV, ``tau_m = 20`` ms,
    ``tau_exc = 5`` ms, ``tau_inh = 10`` ms, ``v_rest = -49`` mV, ``v_th = -50`` mV,
    ``v_reset = -60`` mV, ``t_ref = 5`` ms, ``dt = 0.1`` ms, ``v_init ~ U(-60, -50)`` mV.
``stdp``
    Brian2's ``examples/synapses/STDP.py`` (Song, Miller & Abbott 2000): ``n_in = 1000``
    Poisson inputs at 15 Hz, all-to-all onto ``n_out`` LIF neurons with additive pair
    STDP. In neuromorph units (weights in mV, ``g * (E_e - v_reset) = g * 60 mV``):
    ``w_max = 0.6`` mV, ``a_plus = 0.006``, ``a_minus = -0.0063`` mV, ``tau_pre =
    tau_post = 20`` ms; LIF ``tau_m = 10`` ms, ``v_rest = -74``, ``v_reset = -60``,
    ``v_th = -54`` mV, ``tau_syn_exc = 5`` ms, ``v_init = -60`` mV;
    ``w_init ~ U(0, 0.6)`` mV.

Every simulator run happens in its own subprocess (Brian2's ``cpp_standalone`` device
is global state; a fresh process also shows the cost of a cold start), and the
repeats interleave the simulators, so background load hits all of them alike. The
Brian2 peers rebuild the neuromorph network from the same seed and copy its synapses
and initial values, so they run the *identical* network (only the Poisson input
trains differ: each simulator draws its own).

What is timed:

* neuromorph: ``build_s`` = network construction; ``first_call_s`` = a 1 ms warm-up
  ``net.run`` (engine compilation and numba's JIT or cache load; ``numba_cache`` tells
  which); ``wall_s`` = the timed ``net.run(duration)`` only.
* Brian2 ``cython`` / ``numpy``: ``build_s`` = network construction plus a 1 ms warm-up
  run (code generation and compilation); ``wall_s`` = the timed ``run(duration)``.
* Brian2 ``cpp_standalone``: ``build_s`` = code generation + compilation (a fixed
  build folder per network under the temp directory is reused, so repeats rebuild
  incrementally); ``wall_s`` = Brian2's own timer of the simulation loop inside the
  binary; ``process_s`` = the whole binary (loading arrays, creating synapses, run).

Each run prints one JSON line; after all repeats one ``"summary"`` line per size gives
the minimum wall time of each simulator and ``speedup = brian_wall / neuromorph_wall``.

Usage::

    python -m neuromorph.bench cuba --n 4000 16000 64000 --duration 1000 \\
        --compare brian2 --targets cython cpp_standalone --repeat 3
    python -m neuromorph.bench stdp --n-out 1 1000 --compare brian2
    python -m neuromorph.bench cuba --quick          # tiny smoke run

On a shared machine add ``--wait-quiet 0.5`` (wait, at most ``--wait-max`` s, until
other processes use at most half a core before each run); every record carries
``background_cores``, the CPU other processes used while it ran.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

#: CUBA parameters (ms, mV), Brian2's examples/CUBA.py.
CUBA = dict(tau_m=20.0, v_rest=-49.0, v_reset=-60.0, v_th=-50.0, t_ref=5.0,
            tau_syn_exc=5.0, tau_syn_inh=10.0, v_init_low=-60.0, v_init_high=-50.0,
            w_exc=1.62, w_inh=-9.0, frac_exc=0.8, dt=0.1)

#: STDP parameters (ms, mV, Hz), Brian2's examples/synapses/STDP.py in neuromorph units.
STDP_NET = dict(n_in=1000, rate=15.0, tau_m=10.0, v_rest=-74.0, v_reset=-60.0, v_th=-54.0,
                tau_syn_exc=5.0, v_init=-60.0, w_max=0.6, a_plus=0.006, a_minus=-0.0063,
                tau_pre=20.0, tau_post=20.0, drive=60.0, dt=0.1)

WARMUP_MS = 1.0
_DEFAULT_STDP_MS = {1: 100_000.0}  # issue sizes: 1000 -> 1 for 100 s, else 10 s
_TIMEOUT_S = 3600


# -- the networks in neuromorph ----------------------------------------------------------
def cuba_p(n):
    """Connection probability keeping ~80 synapses per neuron: ``0.02 * 4000 / n``."""
    return min(1.0, 0.02 * 4000 / n)


def build_cuba(n, seed=1):
    """The CUBA network with neuromorph's public API; returns ``(net, P, exc, inh)``."""
    import neuromorph as nm
    c = CUBA
    net = nm.Network(dt=c["dt"], seed=seed)
    P = net.lif(n, tau_m=c["tau_m"], v_rest=c["v_rest"], v_reset=c["v_reset"],
                v_th=c["v_th"], t_ref=c["t_ref"], tau_syn_exc=c["tau_syn_exc"],
                tau_syn_inh=c["tau_syn_inh"],
                v_init=nm.uniform(c["v_init_low"], c["v_init_high"]))
    ne = int(n * c["frac_exc"])
    exc = net.connect(P[:ne], P, p=cuba_p(n), w=c["w_exc"])
    inh = net.connect(P[ne:], P, p=cuba_p(n), w=c["w_inh"])
    return net, P, exc, inh


def build_stdp(n_out, seed=1, n_in=None):
    """The Song et al. STDP network; returns ``(net, inp, post, proj)``."""
    import neuromorph as nm
    c = STDP_NET
    net = nm.Network(dt=c["dt"], seed=seed)
    inp = net.poisson(n_in or c["n_in"], rate=c["rate"])
    post = net.lif(n_out, tau_m=c["tau_m"], v_rest=c["v_rest"], v_reset=c["v_reset"],
                   v_th=c["v_th"], tau_syn_exc=c["tau_syn_exc"], v_init=c["v_init"])
    rule = nm.STDP(tau_pre=c["tau_pre"], tau_post=c["tau_post"], a_plus=c["a_plus"],
                   a_minus=c["a_minus"], w_min=0.0, w_max=c["w_max"])
    proj = net.connect(inp, post, w=nm.uniform(0.0, c["w_max"]), plasticity=rule)
    return net, inp, post, proj


# -- statistics shared by all simulators ------------------------------------------------------
def cv_isi(t, i):
    """Mean over neurons (with >= 2 inter-spike intervals) of the ISI's CV; NaN if none."""
    t, i = np.asarray(t, float), np.asarray(i, np.int64)
    if t.size < 3:
        return float("nan")
    order = np.lexsort((t, i))
    t, i = t[order], i[order]
    same = i[1:] == i[:-1]
    isi, who = np.diff(t)[same], i[1:][same]
    counts = np.bincount(who)
    keep = counts >= 2
    if not keep.any():
        return float("nan")
    s1 = np.bincount(who, isi, minlength=counts.size)
    s2 = np.bincount(who, isi * isi, minlength=counts.size)
    mean = s1[keep] / counts[keep]
    var = np.maximum(s2[keep] / counts[keep] - mean ** 2, 0.0)
    return float(np.mean(np.sqrt(var) / mean))


def _cuba_stats(n, duration_ms, n_syn, t_ms, i):
    spikes = int(len(t_ms))
    per = n_syn / n
    return dict(spikes=spikes, synapses=int(n_syn), syn_per_neuron=per,
                events=spikes * per, rate_hz=spikes / n / (duration_ms * 1e-3),
                cv_isi=cv_isi(t_ms, i))


def _stdp_stats(n_in, n_out, duration_ms, n_pre, t_post_ms, w_frac):
    n_post = int(len(t_post_ms))
    last = 0.1 * duration_ms
    w = np.asarray(w_frac, float)
    return dict(n_pre_spikes=int(n_pre), n_post_spikes=n_post, spikes=int(n_pre) + n_post,
                synapses=n_in * n_out, events=int(n_pre) * n_out + n_post * n_in,
                input_rate_hz=n_pre / n_in / (duration_ms * 1e-3),
                rate_hz=n_post / n_out / (duration_ms * 1e-3),
                post_rate_last10pct_hz=float(np.sum(np.asarray(t_post_ms) >= duration_ms - last))
                / n_out / (last * 1e-3),
                w_mean=float(w.mean()), frac_w_low=float(np.mean(w < 0.1)),
                frac_w_high=float(np.mean(w > 0.9)),
                w_hist10=[round(float(x), 4) for x in np.histogram(w, 10, (0, 1))[0] / w.size])


def _finish(rec, wall):
    rec["wall_s"] = wall
    rec["events_per_s"] = rec["events"] / wall if wall > 0 else float("nan")
    return rec


# -- neuromorph run ------------------------------------------------------------------------
def _numba_cache_state():
    """'warm' if every compiled kernel came from numba's cache, 'cold' if any was compiled."""
    import importlib
    import pkgutil

    import neuromorph.kernels as kernels
    from numba.core.registry import CPUDispatcher
    hits = misses = 0
    for info in pkgutil.iter_modules(kernels.__path__):
        mod = importlib.import_module(f"{kernels.__name__}.{info.name}")
        for obj in vars(mod).values():
            if isinstance(obj, CPUDispatcher) and obj.signatures:
                hits += sum(obj.stats.cache_hits.values())
                misses += sum(obj.stats.cache_misses.values())
    if misses:
        return "cold"
    return "warm" if hits else "unknown"


def engine_fingerprint():
    """Short hash of the engine's source (kernels + simulator), to tell code versions apart."""
    import hashlib

    import neuromorph
    root = os.path.dirname(os.path.abspath(neuromorph.__file__))
    paths = [os.path.join(root, "simulator.py")]
    kdir = os.path.join(root, "kernels")
    paths += sorted(os.path.join(kdir, f) for f in os.listdir(kdir) if f.endswith(".py"))
    h = hashlib.sha1()
    for path in paths:
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:12]


def run_neuromorph(spec):
    """Build, warm up and time one network in this process; returns the JSON record."""
    import neuromorph as nm
    bench, dur, seed = spec["bench"], float(spec["duration_ms"]), int(spec.get("seed", 1))
    t0 = time.perf_counter()
    if bench == "cuba":
        net, P, exc, inh = build_cuba(int(spec["n"]), seed)
        mons = [net.spike_monitor(P)]
    else:
        net, inp, post, proj = build_stdp(int(spec["n_out"]), seed, spec.get("n_in"))
        mons = [net.spike_monitor(inp), net.spike_monitor(post)]
    t1 = time.perf_counter()
    net.run(WARMUP_MS)
    t2 = time.perf_counter()
    cache = _numba_cache_state()
    n0 = [m.num_spikes for m in mons]
    t3 = time.perf_counter()
    net.run(dur)
    wall = time.perf_counter() - t3
    rec = dict(simulator="neuromorph", version=nm.__version__, target="numba", bench=bench)
    if bench == "cuba":
        n = int(spec["n"])
        m = mons[0]
        t, i = m.t[n0[0]:] - WARMUP_MS, m.i[n0[0]:]
        rec.update(N=n, duration_ms=dur, seed=seed)
        rec.update(_cuba_stats(n, dur, exc.n_synapses + inh.n_synapses, t, i))
    else:
        rec.update(n_in=inp.size, n_out=post.size, duration_ms=dur, seed=seed)
        rec.update(_stdp_stats(inp.size, post.size, dur, mons[0].num_spikes - n0[0],
                               mons[1].t[n0[1]:] - WARMUP_MS, proj.w / STDP_NET["w_max"]))
    rec.update(build_s=t1 - t0, first_call_s=t2 - t1, numba_cache=cache,
               engine=engine_fingerprint())
    return _finish(rec, wall)


# -- Brian2 peer runs --------------------------------------------------------------------------
def _b2_device(b2, target, key):
    """Select the Brian2 target; for cpp_standalone return its (persistent) build folder."""
    if target == "cpp_standalone":
        base = os.path.join(tempfile.gettempdir(), f"neuromorph_bench_b2_{os.getuid()}")
        directory = os.path.join(base, key)
        os.makedirs(directory, exist_ok=True)
        b2.set_device("cpp_standalone", directory=directory, build_on_run=False)
        return directory
    b2.prefs.codegen.target = target
    return None


def _b2_time(b2, net, target, directory, dur):
    """Run for ``dur`` ms; returns ``(build_s, wall_s, process_s, warm_ms)``.

    ``build_s`` is measured from the caller's start; see the module docstring.
    """
    if target == "cpp_standalone":
        net.run(dur * b2.ms)
        t1 = time.perf_counter()
        b2.device.build(directory=directory, compile=True, run=False, with_output=False)
        t2 = time.perf_counter()
        b2.device.run(directory=directory, with_output=False)
        t3 = time.perf_counter()
        return t2 - t1, float(b2.device._last_run_time), t3 - t2, 0.0
    t1 = time.perf_counter()
    net.run(WARMUP_MS * b2.ms)
    t2 = time.perf_counter()
    net.run(dur * b2.ms)
    t3 = time.perf_counter()
    return t2 - t1, t3 - t2, None, WARMUP_MS


def run_brian2_cuba(spec, target):
    """The CUBA network in Brian2 with neuromorph's synapses and initial ``v``."""
    import brian2 as b2
    n, dur, seed = int(spec["n"]), float(spec["duration_ms"]), int(spec.get("seed", 1))
    t0 = time.perf_counter()
    net, P_nm, exc, inh = build_cuba(n, seed)
    directory = _b2_device(b2, target, f"cuba_{n}_{dur:g}_{seed}")
    b2.defaultclock.dt = CUBA["dt"] * b2.ms
    b2.seed(seed)
    c, ms, mV = CUBA, b2.ms, b2.mV
    ns = dict(taum=c["tau_m"] * ms, taue=c["tau_syn_exc"] * ms, taui=c["tau_syn_inh"] * ms,
              Vt=c["v_th"] * mV, Vr=c["v_reset"] * mV, El=c["v_rest"] * mV,
              we=c["w_exc"] * mV, wi=c["w_inh"] * mV)
    eqs = """dv/dt = (ge + gi - (v - El)) / taum : volt (unless refractory)
             dge/dt = -ge / taue : volt
             dgi/dt = -gi / taui : volt"""
    P = b2.NeuronGroup(n, eqs, threshold="v > Vt", reset="v = Vr",
                       refractory=c["t_ref"] * ms, method="exact", namespace=ns)
    P.v = np.asarray(P_nm.v) * mV
    P.ge = P.gi = 0 * mV
    ne = exc.pre.size
    Ce = b2.Synapses(P[:ne], P, on_pre="ge += we", namespace=ns)
    Ci = b2.Synapses(P[ne:], P, on_pre="gi += wi", namespace=ns)
    Ce.connect(i=exc.sources.astype(np.int32), j=exc.targets.astype(np.int32))
    Ci.connect(i=inh.sources.astype(np.int32), j=inh.targets.astype(np.int32))
    M = b2.SpikeMonitor(P)
    b2net = b2.Network(P, Ce, Ci, M)
    t_setup = time.perf_counter() - t0
    build, wall, process, warm = _b2_time(b2, b2net, target, directory, dur)
    t, i = np.asarray(M.t / ms), np.asarray(M.i)
    keep = t >= warm - 1e-9
    rec = dict(simulator="brian2", version=b2.__version__, target=target, bench="cuba",
               N=n, duration_ms=dur, seed=seed)
    rec.update(_cuba_stats(n, dur, exc.n_synapses + inh.n_synapses, t[keep] - warm, i[keep]))
    rec.update(build_s=t_setup + build, process_s=process)
    return _finish(rec, wall)


def run_brian2_stdp(spec, target):
    """Brian2's STDP example with neuromorph's synapses and initial weights."""
    import brian2 as b2
    n_out, dur, seed = int(spec["n_out"]), float(spec["duration_ms"]), int(spec.get("seed", 1))
    t0 = time.perf_counter()
    net, inp_nm, post_nm, proj = build_stdp(n_out, seed, spec.get("n_in"))
    n_in = inp_nm.size
    directory = _b2_device(b2, target, f"stdp_{n_in}_{n_out}_{dur:g}_{seed}")
    b2.defaultclock.dt = STDP_NET["dt"] * b2.ms
    b2.seed(seed)
    c, ms, mV = STDP_NET, b2.ms, b2.mV
    gmax = c["w_max"] / c["drive"]
    ns = dict(taum=c["tau_m"] * ms, taupre=c["tau_pre"] * ms, taupost=c["tau_post"] * ms,
              Ee=(c["v_reset"] + c["drive"]) * mV, vt=c["v_th"] * mV, vr=c["v_reset"] * mV,
              El=c["v_rest"] * mV, taue=c["tau_syn_exc"] * ms, gmax=gmax,
              dApre=c["a_plus"] / c["drive"], dApost=c["a_minus"] / c["drive"])
    eqs = """dv/dt = (ge * (Ee - vr) + El - v) / taum : volt
             dge/dt = -ge / taue : 1"""
    inp = b2.PoissonGroup(n_in, rates=c["rate"] * b2.Hz)
    out = b2.NeuronGroup(n_out, eqs, threshold="v > vt", reset="v = vr", method="exact",
                         namespace=ns)
    out.v = c["v_init"] * mV
    S = b2.Synapses(inp, out, """w : 1
                                 dApre/dt = -Apre / taupre : 1 (event-driven)
                                 dApost/dt = -Apost / taupost : 1 (event-driven)""",
                    on_pre="""ge += w
                              Apre += dApre
                              w = clip(w + Apost, 0, gmax)""",
                    on_post="""Apost += dApost
                               w = clip(w + Apre, 0, gmax)""", namespace=ns)
    S.connect(i=proj.sources.astype(np.int32), j=proj.targets.astype(np.int32))
    S.w = np.asarray(proj.w) / c["drive"]
    Min = b2.SpikeMonitor(inp, record=False)
    Mout = b2.SpikeMonitor(out)
    b2net = b2.Network(inp, out, S, Min, Mout)
    t_setup = time.perf_counter() - t0
    if target == "cpp_standalone":
        build, wall, process, warm = _b2_time(b2, b2net, target, directory, dur)
        n_pre = int(Min.num_spikes)
    else:  # count input spikes of the timed run only
        t1 = time.perf_counter()
        b2net.run(WARMUP_MS * ms)
        build, warm, process = time.perf_counter() - t1, WARMUP_MS, None
        pre0 = int(Min.num_spikes)
        t2 = time.perf_counter()
        b2net.run(dur * ms)
        wall = time.perf_counter() - t2
        n_pre = int(Min.num_spikes) - pre0
    t_post = np.asarray(Mout.t / ms)
    w = np.asarray(S.w[:]) / gmax
    rec = dict(simulator="brian2", version=b2.__version__, target=target, bench="stdp",
               n_in=n_in, n_out=n_out, duration_ms=dur, seed=seed)
    rec.update(_stdp_stats(n_in, n_out, dur, n_pre, t_post[t_post >= warm - 1e-9] - warm, w))
    rec.update(build_s=t_setup + build, process_s=process)
    return _finish(rec, wall)


def run_spec(spec):
    """Run one simulator on one network in this process (``spec['simulator']``)."""
    sim = spec["simulator"]
    if sim == "neuromorph":
        return run_neuromorph(spec)
    if sim == "brian2":
        fn = run_brian2_cuba if spec["bench"] == "cuba" else run_brian2_stdp
        return fn(spec, spec["target"])
    raise ValueError(f"unknown simulator {sim!r}")


def _spawn(spec):
    """Run :func:`run_spec` in a fresh Python process; returns its record (or an error)."""
    cmd = [sys.executable, "-m", "neuromorph.bench", "_worker", json.dumps(spec)]
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    t0 = time.perf_counter()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return dict(spec, error=f"timed out after {_TIMEOUT_S} s")
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        tail = (out.stderr or out.stdout).strip().splitlines()[-5:]
        return dict(spec, error=f"exit {out.returncode}: " + " | ".join(tail))
    rec = json.loads(lines[-1])
    rec["process_total_s"] = time.perf_counter() - t0
    return rec


# -- background load -----------------------------------------------------------------------------
def _cpu_snapshot():
    """``(busy_s, total_s, own_children_cpu_s)`` of the whole machine; None off Linux."""
    try:
        with open("/proc/stat") as f:
            vals = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    hz = os.sysconf("SC_CLK_TCK")
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ((sum(vals) - vals[3] - vals[4]) / hz, sum(vals) / hz, ru.ru_utime + ru.ru_stime)


def _others_cores(a, b):
    """CPU cores used by processes other than our finished children between snapshots."""
    if a is None or b is None or b[1] <= a[1]:
        return None
    wall = (b[1] - a[1]) / (os.cpu_count() or 1)
    return max(0.0, ((b[0] - a[0]) - (b[2] - a[2])) / wall) if wall > 0 else None


def _wait_quiet(max_cores, max_wait_s):
    """Wait until other processes use at most ``max_cores`` (1 s samples); returns last."""
    t_end = time.monotonic() + max_wait_s
    while True:
        a = _cpu_snapshot()
        time.sleep(1.0)
        load = _others_cores(a, _cpu_snapshot())
        if load is None or load <= max_cores or time.monotonic() > t_end:
            return load


# -- driver ------------------------------------------------------------------------------------
def _parser():
    ap = argparse.ArgumentParser(
        prog="neuromorph bench",
        description="Time neuromorph (and Brian2 on the identical network) on the CUBA "
                    "network or the Song et al. STDP network; prints one JSON line per run.")
    sub = ap.add_subparsers(dest="bench", metavar="BENCHMARK",
                            help="cuba (Brian2's CUBA network) or stdp (Song et al.)")

    def common(p):
        p.add_argument("--duration", type=float, default=None,
                       help="simulated time per run (ms); default: cuba 1000, stdp "
                            "100000 for n_out=1 and 10000 otherwise (quick: 100 / 1000)")
        p.add_argument("--compare", nargs="*", default=[], choices=["brian2"],
                       help="peer simulator(s) to run on the identical network")
        p.add_argument("--targets", nargs="+", default=None,
                       choices=["numpy", "cython", "cpp_standalone"],
                       help="Brian2 code-generation targets (default cython cpp_standalone; "
                            "quick: numpy)")
        p.add_argument("--repeat", type=int, default=None,
                       help="runs per simulator and size, interleaved; the minimum wall time "
                            "is summarised (default 1)")
        p.add_argument("--seed", type=int, default=1, help="network seed (default 1)")
        p.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test")
        p.add_argument("--out", default=None, help="also append the JSON lines to this file")
        p.add_argument("--wait-quiet", type=float, default=None, metavar="CORES",
                       help="before each run wait (up to --wait-max s) until other "
                            "processes use at most CORES CPU cores (Linux; shared machines)")
        p.add_argument("--wait-max", type=float, default=300.0,
                       help="longest wait for a quiet machine per run (s, default 300)")

    c = sub.add_parser("cuba", help="CUBA network (Vogels & Abbott 2005) of N LIF neurons")
    c.add_argument("--n", type=int, nargs="+", default=None,
                   help="network sizes (default 4000 16000 64000; quick: 400)")
    common(c)
    s = sub.add_parser("stdp", help="1000 Poisson inputs -> n_out LIF neurons, STDP")
    s.add_argument("--n-out", type=int, nargs="+", default=None,
                   help="output sizes (default 1 1000; quick: 1 10)")
    s.add_argument("--n-in", type=int, default=STDP_NET["n_in"], help="inputs (default 1000)")
    common(s)
    return ap


def _specs(a):
    quick = a.quick
    if a.bench == "cuba":
        sizes = a.n or ([400] if quick else [4000, 16000, 64000])
        for n in sizes:
            if n < 10:
                raise SystemExit(f"--n must be >= 10, got {n}")
            yield dict(bench="cuba", n=n, seed=a.seed,
                       duration_ms=a.duration or (100.0 if quick else 1000.0))
    else:
        sizes = a.n_out or ([1, 10] if quick else [1, 1000])
        for n in sizes:
            if n < 1:
                raise SystemExit(f"--n-out must be >= 1, got {n}")
            dur = a.duration or (1000.0 if quick else _DEFAULT_STDP_MS.get(n, 10_000.0))
            yield dict(bench="stdp", n_out=n, n_in=a.n_in, seed=a.seed, duration_ms=dur)


def _size_key(spec):
    return ("N", spec["n"]) if spec["bench"] == "cuba" else ("n_out", spec["n_out"])


def _clean(rec):
    """NaN / inf -> None, so every line is strict JSON."""
    for k, v in rec.items():
        if isinstance(v, float) and not np.isfinite(v):
            rec[k] = None
    return rec


def _emit(rec, out):
    line = json.dumps(_clean(rec))
    print(line, flush=True)
    if out:
        with open(out, "a") as f:
            f.write(line + "\n")


def run(argv=None):
    """Run the benchmark described by command-line ``argv``; returns the printed records."""
    a = _parser().parse_args(argv)
    if a.bench is None:
        raise SystemExit("neuromorph bench: name a benchmark, cuba or stdp "
                         "(neuromorph bench -h)")
    repeat = a.repeat or 1
    if repeat < 1:
        raise SystemExit(f"--repeat must be >= 1, got {repeat}")
    targets = (a.targets or (["numpy"] if a.quick else ["cython", "cpp_standalone"])) \
        if "brian2" in a.compare else []
    specs = list(_specs(a))
    machine = dict(host_cpus=os.cpu_count(), platform=platform.platform(),
                   python=platform.python_version(),
                   date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    records = []
    runs = {}  # (size, simulator/target) -> list of records
    for r in range(repeat):
        for spec in specs:
            nm_rec = None
            for sim, target in [("neuromorph", "numba")] + [("brian2", t) for t in targets]:
                job = dict(spec, simulator=sim)
                if sim == "brian2":
                    job["target"] = target
                before = None
                if a.wait_quiet is not None:
                    before = _wait_quiet(a.wait_quiet, a.wait_max)
                snap = _cpu_snapshot()
                rec = _spawn(job)
                rec.update(repeat=r, background_cores=_others_cores(snap, _cpu_snapshot()),
                           **({} if r else machine))
                if before is not None:
                    rec["background_cores_before"] = before
                if sim == "neuromorph":
                    nm_rec = rec
                elif nm_rec and "wall_s" in rec and "wall_s" in nm_rec:
                    rec["speedup"] = rec["wall_s"] / nm_rec["wall_s"]
                runs.setdefault((_size_key(spec), target), []).append(rec)
                records.append(rec)
                _emit(rec, a.out)
    for spec in specs:
        key = _size_key(spec)
        ok = {t: [x for x in runs.get((key, t), []) if "wall_s" in x]
              for t in ["numba"] + targets}
        summary = dict(summary=True, bench=spec["bench"], duration_ms=spec["duration_ms"],
                       repeats=repeat)
        summary[key[0]] = key[1]
        nm_min = min((x["wall_s"] for x in ok["numba"]), default=None)
        summary["neuromorph_wall_s"] = nm_min
        for t in targets:
            b_min = min((x["wall_s"] for x in ok[t]), default=None)
            summary[f"brian2_{t}_wall_s"] = b_min
            summary[f"speedup_vs_{t}"] = (b_min / nm_min) if (b_min and nm_min) else None
            if t == "cpp_standalone" and ok[t]:
                summary["brian2_cpp_standalone_build_s"] = max(x["build_s"] for x in ok[t])
        records.append(summary)
        _emit(summary, a.out)
    return records


def main(argv=None):
    """Command-line entry point (``python -m neuromorph.bench``, ``neuromorph bench``).

    Prints one JSON line per run plus one summary line per size; returns the exit
    status: 0, or 1 if a run failed (its line carries an ``"error"``).
    """
    parser = _parser()
    if not (sys.argv[1:] if argv is None else list(argv)):
        parser.print_help()
        return 2
    records = run(argv)
    return 1 if any("error" in r for r in records) else 0


def _worker(argv):
    spec = json.loads(argv[0])
    print(json.dumps(run_spec(spec)), flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_worker":
        _worker(sys.argv[2:])
    else:
        sys.exit(main())
