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

``scale``
    The CUBA network from 64k to 1M neurons (about 80 synapses per neuron): each size and
    thread count in a fresh process with ``NUMBA_NUM_THREADS``, timing the engine load
    (numba cache), ``connect``, the first one-step ``net.run`` (engine set-up) and the
    ``net.run(duration)`` apart, with the peak resident memory per synapse; Brian2
    ``cpp_standalone``'s ``device.run()`` (synapse creation + simulation, C++ build apart)
    and its binary's peak memory on the identical network. Runs over ``--timeout`` or
    ``--max-rss-gb`` are recorded with the reason. Prints a table after the JSON lines
    (``neuromorph bench scale -h`` lists every field with its unit).

Usage::

    python -m neuromorph.bench cuba --n 4000 16000 64000 --duration 1000 \\
        --compare brian2 --targets cython cpp_standalone --repeat 3
    python -m neuromorph.bench stdp --n-out 1 1000 --compare brian2
    python -m neuromorph.bench stdp --n-out 1000 --threads 1 2 --repeat 3
    python -m neuromorph.bench cuba --quick          # tiny smoke run
    python -m neuromorph.bench scale --n 64000 256000 1000000 --threads 1 2 \\
        --compare brian2 --out scale.json

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
    threads = int(spec.get("threads", 1))
    nm.set_num_threads(threads)
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
    rec = dict(simulator="neuromorph", version=nm.__version__, target="numba", bench=bench,
               threads=threads)
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


def _b2_cuba_objects(b2, n, seed, P_nm=None, exc=None, inh=None):
    """Brian2's CUBA objects ``(P, Ce, Ci, M)`` after the device is selected.

    With neuromorph's population and projections (``P_nm, exc, inh``) Brian2 gets the
    identical synapses and initial ``v``; without them it draws its own (``connect(p=...)``
    and ``v ~ U(v_reset, v_th)``, as Brian2's example does).
    """
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
    P.ge = P.gi = 0 * mV
    ne = int(n * c["frac_exc"])
    Ce = b2.Synapses(P[:ne], P, on_pre="ge += we", namespace=ns)
    Ci = b2.Synapses(P[ne:], P, on_pre="gi += wi", namespace=ns)
    if P_nm is None:
        P.v = "Vr + rand() * (Vt - Vr)"
        Ce.connect(p=cuba_p(n))
        Ci.connect(p=cuba_p(n))
    else:
        P.v = np.asarray(P_nm.v) * mV
        Ce.connect(i=exc.sources.astype(np.int32), j=exc.targets.astype(np.int32))
        Ci.connect(i=inh.sources.astype(np.int32), j=inh.targets.astype(np.int32))
    return P, Ce, Ci, b2.SpikeMonitor(P)


def run_brian2_cuba(spec, target):
    """The CUBA network in Brian2 with neuromorph's synapses and initial ``v``."""
    import brian2 as b2
    n, dur, seed = int(spec["n"]), float(spec["duration_ms"]), int(spec.get("seed", 1))
    t0 = time.perf_counter()
    net, P_nm, exc, inh = build_cuba(n, seed)
    directory = _b2_device(b2, target, f"cuba_{n}_{dur:g}_{seed}")
    P, Ce, Ci, M = _b2_cuba_objects(b2, n, seed, P_nm, exc, inh)
    ms = b2.ms
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


# -- scale: build, memory and run time from 64k to 1M neurons ---------------------------------
_MB = 1024.0 * 1024.0


def _proc_status_bytes(*keys, pid="self"):
    """Fields of ``/proc/<pid>/status`` given in kB (VmRSS, VmHWM), in bytes; {} off Linux."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, val = line.partition(":")
                if key in keys:
                    out[key] = int(val.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return out


def _rss_bytes():
    """Resident memory of this process (bytes): VmRSS, or None where unknown."""
    return _proc_status_bytes("VmRSS").get("VmRSS")


def _peak_rss_bytes():
    """Peak resident memory of this process (bytes): VmHWM, else ``ru_maxrss``."""
    hwm = _proc_status_bytes("VmHWM").get("VmHWM")
    if hwm is not None:
        return hwm
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ru * (1 if sys.platform == "darwin" else 1024)


def _reset_peak_rss():
    """Reset VmHWM to the current RSS (Linux >= 4.0: ``/proc/self/clear_refs`` 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _mb(x):
    return None if x is None else x / _MB


def run_neuromorph_scale(spec):
    """One ``scale`` run of neuromorph in this process (``NUMBA_NUM_THREADS`` set by the
    caller); returns the JSON record. Phases, each timed on its own:

    import -> engine load (a 10-neuron CUBA network run for 1 ms: numba's cache load or
    compilation) -> baseline RSS -> connect (``build_cuba``: both ``connect`` calls) ->
    first ``net.run`` of one step (engine set-up for this network) -> ``net.run(duration)``.
    """
    import gc
    t0 = time.perf_counter()
    import numba

    import neuromorph as nm
    n, dur, seed = int(spec["n"]), float(spec["duration_ms"]), int(spec.get("seed", 1))
    threads = int(spec["threads"])
    if hasattr(nm, "set_num_threads"):
        nm.set_num_threads(threads)
        threads_via = "neuromorph.set_num_threads"
    else:
        threads_via = "NUMBA_NUM_THREADS"
    t1 = time.perf_counter()
    tiny, tiny_p, _, _ = build_cuba(10, seed)
    tiny.spike_monitor(tiny_p)
    tiny.run(1.0)
    t2 = time.perf_counter()
    cache = _numba_cache_state()
    del tiny, tiny_p
    gc.collect()
    rss0 = _rss_bytes()
    peak_reset = _reset_peak_rss()
    peak0 = _peak_rss_bytes()

    t3 = time.perf_counter()
    net, P, exc, inh = build_cuba(n, seed)
    t4 = time.perf_counter()
    peak_connect = _peak_rss_bytes()
    mon = net.spike_monitor(P)
    t5 = time.perf_counter()
    net.run(CUBA["dt"])
    t6 = time.perf_counter()
    n0 = mon.num_spikes
    t7 = time.perf_counter()
    net.run(dur)
    t8 = time.perf_counter()
    peak, rss_end = _peak_rss_bytes(), _rss_bytes()

    n_syn = exc.n_synapses + inh.n_synapses
    connect_s, first_run_s, run_s = t4 - t3, t6 - t5, t8 - t7
    build_s = connect_s + first_run_s
    base = rss0 if (peak_reset or rss0 is None) else max(rss0, peak0)
    growth = None if (peak is None or base is None) else peak - base
    spikes = int(mon.num_spikes - n0)
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run
        layer = None
    rec = dict(simulator="neuromorph", version=nm.__version__, target="numba", bench="scale",
               N=n, threads=threads, duration_ms=dur, seed=seed,
               numba_threads=int(numba.get_num_threads()), threads_via=threads_via,
               threading_layer=layer, host_cpus=os.cpu_count(),
               import_s=t1 - t0, engine_load_s=t2 - t1, numba_cache=cache,
               connect_s=connect_s, first_run_s=first_run_s, build_s=build_s, run_s=run_s,
               end_to_end_s=build_s + run_s,
               build_run_ratio=build_s / run_s if run_s > 0 else None,
               synapses=int(n_syn), n_syn_exc=int(exc.n_synapses),
               n_syn_inh=int(inh.n_synapses), syn_per_neuron=n_syn / n,
               expected_synapses=n * n * cuba_p(n),
               spikes=spikes, events=spikes * n_syn / n,
               rate_hz=spikes / n / (dur * 1e-3),
               rss_baseline_mb=_mb(rss0), peak_rss_mb=_mb(peak), rss_end_mb=_mb(rss_end),
               peak_growth_mb=_mb(growth), peak_reset=peak_reset,
               bytes_per_synapse=(growth / n_syn) if (growth is not None and n_syn) else None,
               bytes_per_synapse_connect=((peak_connect - base) / n_syn)
               if (peak_connect is not None and base is not None and n_syn) else None,
               engine=engine_fingerprint())
    return _finish(rec, run_s)


#: Runs the standalone binary (argv[2:]) and writes its own peak RSS and wall time to
#: argv[1]: Brian2 starts this instead of ``./main`` (``run_cmd_unix``), so the binary's
#: memory is measured alone (the compilers are children of the same Python process).
_B2_RUN_WRAPPER = """import json, os, sys, time
t = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], dict(os.environ))
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t
with open(sys.argv[1], "w") as f:
    json.dump(dict(maxrss_kb=ru.ru_maxrss, wall_s=wall), f)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 1)
"""


def run_brian2_scale(spec):
    """One ``scale`` run of Brian2 ``cpp_standalone`` in this process; returns the record.

    ``connect="copy"`` (default) runs neuromorph's synapses and initial ``v`` (the identical
    network; the binary loads them from files), ``"native"`` lets the binary draw its own
    (``connect(p=...)``). ``device_run_s`` is the whole ``device.run()``: start the binary,
    create the synapses, simulate; the C++ build (code generation + compilation) is
    ``cpp_build_s``; ``sim_loop_s`` is Brian2's own timer of the simulation loop.
    """
    import shutil

    import brian2 as b2
    n, dur, seed = int(spec["n"]), float(spec["duration_ms"]), int(spec.get("seed", 1))
    threads, mode = int(spec["threads"]), spec.get("connect", "copy")
    t0 = time.perf_counter()
    P_nm = exc = inh = None
    if mode == "copy":
        _, P_nm, exc, inh = build_cuba(n, seed)
    directory = _b2_device(b2, "cpp_standalone", f"scale_{n}_{dur:g}_{seed}_{mode}_t{threads}")
    b2.prefs.devices.cpp_standalone.openmp_threads = threads if threads > 1 else 0
    fd, rss_file = tempfile.mkstemp(prefix="neuromorph_b2_rss_", suffix=".json")
    os.close(fd)
    b2.prefs.devices.cpp_standalone.run_cmd_unix = [sys.executable, "-S", "-c",
                                                    _B2_RUN_WRAPPER, rss_file, "./main"]
    P, Ce, Ci, M = _b2_cuba_objects(b2, n, seed, P_nm, exc, inh)
    b2net = b2.Network(P, Ce, Ci, M)
    b2net.run(dur * b2.ms)
    reused = os.path.exists(os.path.join(directory, "main"))  # incremental rebuild
    t1 = time.perf_counter()
    b2.device.build(directory=directory, compile=True, run=False, with_output=False)
    t2 = time.perf_counter()
    b2.device.run(directory=directory, with_output=False)
    t3 = time.perf_counter()
    try:
        with open(rss_file) as f:
            binary = json.load(f)
    except (OSError, ValueError):
        binary = {}
    finally:
        os.unlink(rss_file)
    n_exc, n_inh = int(len(Ce)), int(len(Ci))
    n_syn = n_exc + n_inh
    spikes = int(M.num_spikes)
    peak = binary.get("maxrss_kb")
    peak = None if peak is None else peak * 1024
    rec = dict(simulator="brian2", version=b2.__version__, target="cpp_standalone",
               bench="scale", N=n, threads=threads, duration_ms=dur, seed=seed, connect=mode,
               openmp_threads=int(b2.prefs.devices.cpp_standalone.openmp_threads),
               setup_s=t1 - t0, cpp_build_s=t2 - t1, cpp_build_reused=reused,
               build_dir=directory, device_run_s=t3 - t2,
               binary_wall_s=binary.get("wall_s"),
               sim_loop_s=float(b2.device._last_run_time),
               synapses=n_syn, n_syn_exc=n_exc, n_syn_inh=n_inh, syn_per_neuron=n_syn / n,
               spikes=spikes, events=spikes * n_syn / n, rate_hz=spikes / n / (dur * 1e-3),
               binary_peak_rss_mb=_mb(peak),
               bytes_per_synapse=(peak / n_syn) if (peak and n_syn) else None)
    for sub in ("static_arrays", "results"):  # ~9 bytes per synapse each: don't keep them
        shutil.rmtree(os.path.join(directory, sub), ignore_errors=True)
    return _finish(rec, rec["device_run_s"])


def run_nest_scale(spec):
    """One ``scale`` run of NEST (``iaf_psc_exp``, :mod:`neuromorph.backends.nest`) in this
    process; returns the record.

    ``connectivity='explicit'``: NEST gets neuromorph's synapses (the identical network;
    drawing them in neuromorph is not timed); ``'rules'``: NEST draws its own
    (``pairwise_bernoulli``, or ``fixed_indegree`` with ``spec['bernoulli_rule']``).
    ``build_s``: creating and connecting the nodes; ``run_s``: ``Simulate``. CUBA's
    delay-0 recurrent synapses run with NEST's minimum delay, one step
    (``zero_delay='one_step'``).
    """
    from .backends.nest import _nest, to_nest
    n, dur, seed = int(spec["n"]), float(spec["duration_ms"]), int(spec.get("seed", 1))
    threads, mode = int(spec["threads"]), spec.get("connectivity", "explicit")
    bernoulli = spec.get("bernoulli_rule", "pairwise_bernoulli")
    t0 = time.perf_counter()
    net, P, exc, inh = build_cuba(n, seed)
    net.spike_monitor(P)
    t1 = time.perf_counter()
    rss0 = _rss_bytes()
    model = to_nest(net, dur, threads=threads, connectivity=mode, zero_delay="one_step",
                    bernoulli_rule=bernoulli)
    result = model.run()
    nest = _nest()
    peak = _peak_rss_bytes()
    spikes = int(result.monitors[0].num_spikes)
    n_syn = int(result.connections) - n  # the spike recorder's connections
    rec = dict(simulator="nest", version=nest.__version__, target=f"nest-{mode}",
               bench="scale", N=n, threads=threads, duration_ms=dur, seed=seed,
               connectivity=mode, **({"bernoulli_rule": bernoulli} if mode == "rules" else {}),
               neuromorph_build_s=t1 - t0, build_s=result.build_s,
               run_s=result.wall_s, end_to_end_s=result.build_s + result.wall_s,
               synapses=n_syn, syn_per_neuron=n_syn / n, spikes=spikes,
               events=spikes * n_syn / n, rate_hz=spikes / n / (dur * 1e-3),
               peak_rss_mb=_mb(peak),
               bytes_per_synapse=((peak - rss0) / n_syn) if (peak and rss0 and n_syn)
               else None)
    return _finish(rec, result.wall_s)


def run_spec(spec):
    """Run one simulator on one network in this process (``spec['simulator']``)."""
    sim = spec["simulator"]
    if spec["bench"] == "scale":
        if sim == "neuromorph":
            return run_neuromorph_scale(spec)
        if sim == "brian2":
            return run_brian2_scale(spec)
        if sim == "nest":
            return run_nest_scale(spec)
        raise ValueError(f"unknown simulator {sim!r}")
    if sim == "neuromorph":
        return run_neuromorph(spec)
    if sim == "brian2":
        fn = run_brian2_cuba if spec["bench"] == "cuba" else run_brian2_stdp
        return fn(spec, spec["target"])
    raise ValueError(f"unknown simulator {sim!r}")


def _tree_rss_bytes(pid):
    """Resident memory of ``pid`` and all its descendants (Linux; None elsewhere)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        rss = _proc_status_bytes("VmRSS", pid=p).get("VmRSS")
        if rss is None and p == pid:
            return None
        total += rss or 0
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(x) for x in f.read().split()]
        except (OSError, ValueError):
            pass
    return total


def _spawn(spec, env=None, timeout=None, max_rss_bytes=None):
    """Run :func:`run_spec` in a fresh Python process; returns its record (or an error).

    ``env`` adds environment variables; ``timeout`` (s, default 3600) and
    ``max_rss_bytes`` (resident memory of the process and its children, sampled every
    0.2 s) stop the run and record why instead of a result.
    """
    import signal
    cmd = [sys.executable, "-m", "neuromorph.bench", "_worker", json.dumps(spec)]
    full_env = dict(os.environ)
    full_env.update(env or {})
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    full_env["PYTHONPATH"] = root + os.pathsep + full_env.get("PYTHONPATH", "")
    timeout = _TIMEOUT_S if timeout is None else timeout
    t0 = time.perf_counter()
    peak_seen, error = 0, None
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=full_env,
                                start_new_session=True)
        try:
            while True:
                try:
                    proc.wait(timeout=0.2)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if time.perf_counter() - t0 > timeout:
                    error = f"timed out after {timeout:g} s"
                elif max_rss_bytes is not None:
                    rss = _tree_rss_bytes(proc.pid) or 0
                    peak_seen = max(peak_seen, rss)
                    if rss > max_rss_bytes:
                        error = (f"stopped: resident memory {rss / 2 ** 30:.2f} GiB exceeded "
                                 f"the limit {max_rss_bytes / 2 ** 30:.2f} GiB (--max-rss-gb)")
                if error:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    break
        except BaseException:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            raise
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if error:
        return dict(spec, error=error)
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (stderr or stdout).strip().splitlines()[-5:]
        return dict(spec, error=f"exit {proc.returncode}: " + " | ".join(tail))
    rec = json.loads(lines[-1])
    rec["process_total_s"] = time.perf_counter() - t0
    if max_rss_bytes is not None:
        rec["tree_rss_sampled_peak_mb"] = _mb(peak_seen)
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
                            help="cuba (Brian2's CUBA network), stdp (Song et al.) or scale "
                                 "(CUBA from 64k to 1M neurons: build, memory, threads)")

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
        p.add_argument("--threads", type=_int_at_least(1, "threads"), nargs="+", default=[1],
                       help="neuromorph thread counts, each run in its own process "
                            "(NUMBA_NUM_THREADS); the summary gives each count's speedup "
                            "over the first (default 1)")
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
    _scale_parser(sub)
    return ap


def _int_at_least(lo, unit):
    def parse(text):
        try:
            val = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer number of {unit}, "
                                             f"got {text!r}") from None
        if val < lo:
            raise argparse.ArgumentTypeError(f"must be >= {lo} {unit}, got {val}")
        return val
    return parse


def _duration_ms(text):
    try:
        val = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a duration in ms, got {text!r}") from None
    steps = val / CUBA["dt"]
    if not (np.isfinite(val) and val > 0 and abs(steps - round(steps)) < 1e-6):
        raise argparse.ArgumentTypeError(
            f"must be a positive multiple of dt = {CUBA['dt']:g} ms, got {text}")
    return val


def _positive_float(unit):
    def parse(text):
        try:
            val = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number of {unit}, got {text!r}") \
                from None
        if not (np.isfinite(val) and val > 0):
            raise argparse.ArgumentTypeError(f"must be > 0 {unit}, got {text}")
        return val
    return parse


def _mem_available_bytes():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


_SCALE_EPILOG = """\
What each run measures (one fresh Python process per N and thread count, with
NUMBA_NUM_THREADS=<threads>, and neuromorph.set_num_threads(<threads>) where it exists):
  import_s          importing neuromorph and numba (s)
  engine_load_s     building and running a 10-neuron CUBA network for 1 ms: numba's cache
                    load, or compilation on a cold cache (numba_cache: warm / cold) (s)
  connect_s         build_cuba(N): the network and both connect calls (s)
  first_run_s       the first net.run, one step (0.1 ms): the engine's set-up for this
                    network (s)
  build_s           connect_s + first_run_s (s)
  run_s             net.run(--duration) (s)
  end_to_end_s      build_s + run_s (s); build/run = build_s / run_s
  bytes_per_synapse growth of peak resident memory (VmHWM, reset after the engine load)
                    over the baseline (RSS after import + engine load), per synapse (B)
  rate_hz           spikes per neuron per second of the timed run (CUBA: about 5-6 Hz)
  speedup           run_s at 1 thread / run_s at this thread count (needs 1 in --threads)
Brian2 cpp_standalone (--compare brian2; openmp_threads = threads, 0 for 1 thread):
  device_run_s      device.run(): start the binary, create the synapses, simulate (s)
  sim_loop_s        Brian2's timer of the simulation loop alone (s)
  cpp_build_s       code generation + C++ compilation, reported apart (s); the build
                    folder (temp dir, per N / duration / threads) is reused, so a repeat
                    recompiles only what changed (cpp_build_reused: true)
  bytes_per_synapse the binary's peak resident memory (ru_maxrss) per synapse (B)
  e2e ratio         Brian2 device_run_s / neuromorph end_to_end_s (> 1: neuromorph faster)
  run ratio         Brian2 sim_loop_s / neuromorph run_s
  other load        CPU cores used by other processes while the run ran (background_cores)
A run that exceeds --timeout or --max-rss-gb (or is predicted to exceed the memory limit
from a smaller N's bytes per synapse) is recorded with an "error" instead of numbers.
Prints one JSON line per run, one "summary" line per (N, threads), then a table.

example:
  python -m neuromorph.bench scale --n 64000 256000 1000000 --threads 1 2 \\
      --compare brian2 --duration 1000 --out scale.json
"""


def _scale_parser(sub):
    from .backends.nest import BERNOULLI_RULES  # (NEST itself is imported only to run it)
    p = sub.add_parser(
        "scale", help="CUBA at large N: build time, memory per synapse, threads",
        description="Brian2's CUBA network (80 % excitatory, p = 0.02 * 4000 / N, about "
                    "80 synapses per neuron, dt 0.1 ms) at large N: engine load, connect, "
                    "first-run and run times, peak memory per synapse and thread speedup; "
                    "optionally against Brian2 cpp_standalone on the identical network.",
        epilog=_SCALE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=_int_at_least(10, "neurons"), nargs="+",
                   default=[64000, 256000, 1000000], metavar="N",
                   help="network sizes (neurons, >= 10; default 64000 256000 1000000)")
    p.add_argument("--threads", type=_int_at_least(1, "threads"), nargs="+", default=[1],
                   metavar="T", help="thread counts (NUMBA_NUM_THREADS; default 1)")
    p.add_argument("--duration", type=_duration_ms, default=1000.0, metavar="MS",
                   help="simulated time of the timed run (ms, a multiple of 0.1; "
                        "default 1000)")
    p.add_argument("--compare", nargs="*", default=[], choices=["brian2", "nest"],
                   help="also run Brian2 cpp_standalone and/or NEST (iaf_psc_exp; both "
                        "connectivity modes: explicit = neuromorph's synapses, rules = "
                        "NEST's pairwise_bernoulli) on each N")
    p.add_argument("--nest-rule", choices=BERNOULLI_RULES,
                   default="pairwise_bernoulli",
                   help="NEST's rule in the rules mode: pairwise_bernoulli (CUBA's "
                        "distribution; N^2 random draws, ~75 min per thread at N = 256000 "
                        "here) or fixed_indegree (p * N sources per neuron, the same mean; "
                        "one draw per synapse)")
    p.add_argument("--brian2-threads", type=_int_at_least(1, "threads"), nargs="+",
                   default=None, metavar="T",
                   help="Brian2 thread counts (OpenMP; default: the same as --threads)")
    p.add_argument("--brian2-connect", choices=["copy", "native"], default="copy",
                   help="copy: Brian2 loads neuromorph's synapses and initial v (identical "
                        "network, default); native: Brian2 draws its own (connect(p=...))")
    p.add_argument("--seed", type=int, default=1, help="network seed (default 1)")
    p.add_argument("--timeout", type=_positive_float("seconds"), default=float(_TIMEOUT_S),
                   metavar="S", help=f"limit per run (s, default {_TIMEOUT_S})")
    p.add_argument("--max-rss-gb", type=_positive_float("GiB"), default=None, metavar="GB",
                   help="stop a run whose resident memory (process + children) exceeds "
                        "this (GiB; default 80 %% of the memory available at start)")
    p.add_argument("--out", default=None, help="also append the JSON lines to this file")
    p.add_argument("--wait-quiet", type=float, default=None, metavar="CORES",
                   help="before each run wait (up to --wait-max s) until other processes "
                        "use at most CORES CPU cores (Linux; shared machines)")
    p.add_argument("--wait-max", type=float, default=300.0, metavar="S",
                   help="longest wait for a quiet machine per run (s, default 300)")
    return p


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


def _predicted_too_big(spec, ok, limit):
    """A reason to skip ``spec`` if a smaller N of the same simulator and threads, scaled
    by its bytes per synapse, predicts more resident memory than ``limit``; else None."""
    if limit is None:
        return None
    n = spec["n"]
    prev = [r for r in ok if r["N"] < n and r.get("bytes_per_synapse")]
    if not prev:
        return None
    r = max(prev, key=lambda x: x["N"])
    base = (r.get("rss_baseline_mb") or 0.0) * _MB
    need = base + r["bytes_per_synapse"] * n * n * cuba_p(n)
    if need <= limit:
        return None
    return (f"skipped: predicted {need / 2 ** 30:.1f} GiB (N={r['N']}: "
            f"{r['bytes_per_synapse']:.1f} B/synapse) exceeds the limit "
            f"{limit / 2 ** 30:.1f} GiB (--max-rss-gb)")


def _fmt(x, digits=3):
    if x is None:
        return "-"
    if isinstance(x, (int, np.integer)):
        return f"{x:,}"
    if not np.isfinite(x):
        return "-"
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.{digits}g}" if abs(x) < 1 else f"{x:.{digits - 1}f}" if abs(x) < 10 \
        else f"{x:.1f}"


def _scale_summary(n, t, dur, nm_rec, nm_one, b2_rec):
    """The summary line of one (N, threads) row."""
    ok = nm_rec is not None and "error" not in nm_rec
    b2_ok = b2_rec is not None and "error" not in b2_rec
    get = (lambda k: nm_rec.get(k)) if ok else (lambda k: None)
    b2get = (lambda k: b2_rec.get(k)) if b2_ok else (lambda k: None)
    one_ok = nm_one is not None and "error" not in nm_one
    speedup = (nm_one["run_s"] / nm_rec["run_s"]) if (ok and one_ok and nm_rec["run_s"]) \
        else None
    e2e, run_only = get("end_to_end_s"), get("run_s")
    summary = dict(summary=True, bench="scale", N=n, threads=t, duration_ms=dur,
                   synapses=get("synapses") or b2get("synapses"),
                   engine_load_s=get("engine_load_s"), connect_s=get("connect_s"),
                   first_run_s=get("first_run_s"), build_s=get("build_s"), run_s=run_only,
                   end_to_end_s=e2e, bytes_per_synapse=get("bytes_per_synapse"),
                   build_run_ratio=get("build_run_ratio"), speedup_threads=speedup,
                   rate_hz=get("rate_hz"), threading_layer=get("threading_layer"),
                   brian2_device_run_s=b2get("device_run_s"),
                   brian2_sim_loop_s=b2get("sim_loop_s"),
                   brian2_cpp_build_s=b2get("cpp_build_s"),
                   brian2_cpp_build_reused=b2get("cpp_build_reused"),
                   brian2_bytes_per_synapse=b2get("bytes_per_synapse"),
                   brian2_rate_hz=b2get("rate_hz"),
                   ratio_end_to_end=(b2get("device_run_s") / e2e)
                   if (b2_ok and e2e) else None,
                   ratio_run=(b2get("sim_loop_s") / run_only) if (b2_ok and run_only) else None,
                   background_cores=get("background_cores"),
                   brian2_background_cores=b2get("background_cores"))
    errors = {}
    if nm_rec is not None and "error" in nm_rec:
        errors["neuromorph"] = nm_rec["error"]
    if b2_rec is not None and "error" in b2_rec:
        errors["brian2"] = b2_rec["error"]
    if errors:
        summary["errors"] = errors
    return summary


_SCALE_COLUMNS = [
    ("N", "N"), ("synapses", "synapses"), ("threads", "threads"),
    ("engine_load_s", "engine load s"), ("connect_s", "connect s"),
    ("first_run_s", "first run s"), ("build_s", "build s"), ("run_s", "run s"),
    ("end_to_end_s", "end-to-end s"), ("bytes_per_synapse", "B/synapse"),
    ("build_run_ratio", "build/run"), ("speedup_threads", "thread speedup"),
    ("rate_hz", "rate Hz"),
    ("brian2_device_run_s", "Brian2 device.run s"),
    ("brian2_sim_loop_s", "Brian2 loop s"), ("brian2_cpp_build_s", "Brian2 C++ build s"),
    ("brian2_bytes_per_synapse", "Brian2 B/synapse"),
    ("ratio_end_to_end", "e2e Brian2/nm"), ("ratio_run", "run Brian2/nm"),
    ("background_cores", "other load, cores"),
    ("brian2_background_cores", "Brian2: other load, cores"),
    ("nest_explicit_build_s", "NEST explicit build s"),
    ("nest_explicit_run_s", "NEST explicit run s"),
    ("nest_rules_build_s", "NEST rules build s"), ("nest_rules_run_s", "NEST rules run s"),
    ("nest_explicit_rate_hz", "NEST rate Hz"), ("nest_rules_rate_hz", "NEST rules rate Hz")]


def scale_table(summaries, brian2=True, nest=False):
    """Markdown table of the ``scale`` summary records."""
    cols = [c for c in _SCALE_COLUMNS if (brian2 or not c[0].startswith(("brian2", "ratio")))
            and (nest or not c[0].startswith("nest"))]
    lines = ["| " + " | ".join(h for _, h in cols) + " |",
             "|" + "---|" * len(cols)]
    for s in summaries:
        lines.append("| " + " | ".join(_fmt(s.get(k)) for k, _ in cols) + " |")
    for s in summaries:
        for sim, err in s.get("errors", {}).items():
            lines.append(f"N={s['N']:,} threads={s['threads']} {sim}: {err}")
    reused = [f"N={s['N']:,} threads={s['threads']}" for s in summaries
              if s.get("brian2_cpp_build_reused")]
    if reused:
        lines.append("note: Brian2's C++ build reused its cached build folder (only changed "
                     f"files recompiled) at {'; '.join(reused)}; a first build takes longer")
    serial = sorted({s["threads"] for s in summaries if s["threads"] > 1
                     and s.get("run_s") is not None and s.get("threading_layer") is None})
    if serial:
        lines.append(f"note: at threads={', '.join(map(str, serial))} neuromorph ran no "
                     "parallel (numba threading) kernel: the thread count had no effect "
                     "on it, differences are noise")
    return "\n".join(lines)


def run_scale(a):
    """The ``scale`` benchmark from parsed arguments; returns the records (runs, summaries)."""
    avail = _mem_available_bytes()
    limit = a.max_rss_gb * 2 ** 30 if a.max_rss_gb else (0.8 * avail if avail else None)
    b2_threads = (a.brian2_threads or a.threads) if "brian2" in a.compare else []
    machine = dict(host_cpus=os.cpu_count(), platform=platform.platform(),
                   python=platform.python_version(),
                   mem_available_gb=None if avail is None else avail / 2 ** 30,
                   max_rss_gb=None if limit is None else limit / 2 ** 30,
                   date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    records, by_key, first = [], {}, True
    sizes = list(dict.fromkeys(a.n))
    threads = list(dict.fromkeys(a.threads))
    b2_threads = list(dict.fromkeys(b2_threads))
    nest_modes = ("explicit", "rules") if "nest" in a.compare else ()
    for n in sizes:
        jobs = [("neuromorph", t) for t in threads] + [("brian2", t) for t in b2_threads] \
            + [(f"nest-{m}", t) for m in nest_modes for t in threads]
        for sim, t in jobs:
            spec = dict(bench="scale", simulator=sim, n=n, threads=t, duration_ms=a.duration,
                        seed=a.seed)
            if sim == "brian2":
                spec.update(target="cpp_standalone", connect=a.brian2_connect)
            if sim.startswith("nest-"):
                spec.update(simulator="nest", connectivity=sim[len("nest-"):])
                if spec["connectivity"] == "rules":
                    spec["bernoulli_rule"] = a.nest_rule
            ok = [r for (s_, n_, t_), r in by_key.items()
                  if s_ == sim and t_ == t and "error" not in r]
            reason = _predicted_too_big(spec, ok, limit)
            if reason:
                rec = dict(spec, error=reason)
            else:
                before = None
                if a.wait_quiet is not None:
                    before = _wait_quiet(a.wait_quiet, a.wait_max)
                env = {"NUMBA_NUM_THREADS": str(t), "OMP_NUM_THREADS": str(t)}
                snap = _cpu_snapshot()
                rec = _spawn(spec, env=env, timeout=a.timeout, max_rss_bytes=limit)
                rec["background_cores"] = _others_cores(snap, _cpu_snapshot())
                if before is not None:
                    rec["background_cores_before"] = before
            if first:
                rec.update(machine)
                first = False
            by_key[(sim, n, t)] = rec
            records.append(rec)
            _emit(rec, a.out)
    summaries = []
    for n in sizes:
        for t in sorted(set(threads) | set(b2_threads)):
            nm_rec, b2_rec = by_key.get(("neuromorph", n, t)), by_key.get(("brian2", n, t))
            if nm_rec is None and b2_rec is None:
                continue
            summary = _scale_summary(n, t, a.duration, nm_rec,
                                     by_key.get(("neuromorph", n, 1)), b2_rec)
            for m in nest_modes:
                nest_rec = by_key.get((f"nest-{m}", n, t))
                good = nest_rec is not None and "error" not in nest_rec
                for k in ("build_s", "run_s", "rate_hz"):
                    summary[f"nest_{m}_{k}"] = nest_rec.get(k) if good else None
                if nest_rec is not None and not good:
                    summary.setdefault("errors", {})[f"nest-{m}"] = nest_rec["error"]
            summaries.append(summary)
            records.append(summary)
            _emit(summary, a.out)
    print(f"\nCUBA scale, {a.duration:g} ms simulated per run; times in s, memory in bytes "
          "per synapse (peak RSS growth)", flush=True)
    print(scale_table(summaries, brian2=bool(b2_threads), nest=bool(nest_modes)), flush=True)
    return records


def run(argv=None):
    """Run the benchmark described by command-line ``argv``; returns the printed records."""
    a = _parser().parse_args(argv)
    if a.bench is None:
        raise SystemExit("neuromorph bench: name a benchmark, cuba, stdp or scale "
                         "(neuromorph bench -h)")
    if a.bench == "scale":
        return run_scale(a)
    repeat = a.repeat or 1
    if repeat < 1:
        raise SystemExit(f"--repeat must be >= 1, got {repeat}")
    targets = (a.targets or (["numpy"] if a.quick else ["cython", "cpp_standalone"])) \
        if "brian2" in a.compare else []
    specs = list(_specs(a))
    machine = dict(host_cpus=os.cpu_count(), platform=platform.platform(),
                   python=platform.python_version(),
                   date=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    threads = list(dict.fromkeys(a.threads))
    records = []
    runs = {}  # (size, simulator/target, threads) -> list of records
    for r in range(repeat):
        for spec in specs:
            nm_rec = None
            jobs = [("neuromorph", "numba", t) for t in threads] + \
                [("brian2", tg, 1) for tg in targets]
            for sim, target, t in jobs:
                job = dict(spec, simulator=sim)
                env = None
                if sim == "brian2":
                    job["target"] = target
                else:
                    job["threads"] = t
                    env = {"NUMBA_NUM_THREADS": str(t)}
                before = None
                if a.wait_quiet is not None:
                    before = _wait_quiet(a.wait_quiet, a.wait_max)
                snap = _cpu_snapshot()
                rec = _spawn(job, env=env)
                rec.update(repeat=r, background_cores=_others_cores(snap, _cpu_snapshot()),
                           **({} if r else machine))
                if before is not None:
                    rec["background_cores_before"] = before
                if sim == "neuromorph":
                    nm_rec = nm_rec or rec  # Brian2's speedup: against the first count
                elif nm_rec and "wall_s" in rec and "wall_s" in nm_rec:
                    rec["speedup"] = rec["wall_s"] / nm_rec["wall_s"]
                runs.setdefault((_size_key(spec), target, t), []).append(rec)
                records.append(rec)
                _emit(rec, a.out)
    for spec in specs:
        key = _size_key(spec)
        ok = {(tg, t): [x for x in runs.get((key, tg, t), []) if "wall_s" in x]
              for tg, t in [("numba", t) for t in threads] + [(tg, 1) for tg in targets]}
        summary = dict(summary=True, bench=spec["bench"], duration_ms=spec["duration_ms"],
                       repeats=repeat)
        summary[key[0]] = key[1]
        walls = {t: min((x["wall_s"] for x in ok[("numba", t)]), default=None)
                 for t in threads}
        nm_min = walls[threads[0]]
        summary["neuromorph_wall_s"] = nm_min
        if len(threads) > 1:
            summary["threads"] = threads
            summary["neuromorph_wall_s_by_threads"] = {str(t): w for t, w in walls.items()}
            summary["speedup_threads"] = {str(t): (nm_min / w) if (nm_min and w) else None
                                          for t, w in walls.items()}
        for t in targets:
            b_min = min((x["wall_s"] for x in ok[(t, 1)]), default=None)
            summary[f"brian2_{t}_wall_s"] = b_min
            summary[f"speedup_vs_{t}"] = (b_min / nm_min) if (b_min and nm_min) else None
            if t == "cpp_standalone" and ok[(t, 1)]:
                summary["brian2_cpp_standalone_build_s"] = max(x["build_s"] for x in ok[(t, 1)])
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
