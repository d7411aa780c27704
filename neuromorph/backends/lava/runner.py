"""Running Lava safely: a forked, watched worker that compiles and runs the processes,
turns a child's crash into :class:`~neuromorph.errors.LavaRuntimeError`, and releases
Lava's processes and shared memory on every exit.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import signal
import time
import traceback
from multiprocessing import resource_tracker

import numpy as np

from ...descriptions import describe
from ...errors import LavaRuntimeError, UnsupportedFeature
from ...monitors import RateMonitor, SpikeMonitor, StateMonitor

from .compat import _lava
from .export import LavaResult, _check_network, to_lava
from .rules import TRACE_IMPULSE


# -- running ------------------------------------------------------------------------------
def run_lava(net, duration, *, fixed_point=None, connection="dense", timeout=None,
             learning="float", trace_impulse=TRACE_IMPULSE, rng_seed=0, rewards=None):
    """Run ``net`` for ``duration`` ms in Lava's CPU simulation of Loihi 2.

    Parameters
    ----------
    net : Network
        LoihiLIF populations, spike sources / Poisson inputs, static projections.
    duration : float
        Simulated time (ms, a multiple of ``net.dt``; one step is one Loihi step).
    fixed_point : bool, optional
        Precision to run in; must match the populations' ``fixed_point`` (default:
        theirs).
    connection : {'dense', 'sparse'}
        Lava connection process for delay-free projections.
    timeout : float, optional
        Wall-clock limit (s); the run is stopped and :class:`LavaRuntimeError` raised.
    learning, trace_impulse, rng_seed, rewards
        Learning options, see :func:`to_lava`.

    Returns
    -------
    LavaResult

    Raises
    ------
    UnsupportedFeature
        For parts of the network Lava cannot run (before anything is built).
    LavaRuntimeError
        When a Lava process fails in its child process (with its traceback).
    """
    fixed = _check_network(net, connection, trace_impulse, learning)
    if fixed_point is not None and bool(fixed_point) != fixed:
        have = "fixed" if fixed else "floating"
        raise UnsupportedFeature(f"fixed_point={fixed_point} but the network's LoihiLIF "
                                 f"populations are {have} point; build them with "
                                 f"fixed_point={fixed_point}")
    model = to_lava(net, duration, connection=connection, learning=learning,
                    trace_impulse=trace_impulse, rng_seed=rng_seed, rewards=rewards)
    return model.run(timeout)


def _kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _run_watched(model, timeout):
    # Lava's shared memory registers with multiprocessing's resource tracker: start it
    # here, so the worker shares ours instead of leaving an orphan of its own behind
    resource_tracker.ensure_running()
    ctx = mp.get_context("fork")
    os.makedirs(model._dir, exist_ok=True)
    recv, send = ctx.Pipe(duplex=False)
    worker = ctx.Process(target=_worker, args=(model, send), name="neuromorph-lava")
    t0 = time.perf_counter()
    try:
        worker.start()
        send.close()
        msg = None
        while msg is None:
            if recv.poll(0.05):
                try:
                    msg = recv.recv()
                except EOFError:
                    msg = ("died", None, [])
            elif not worker.is_alive():
                msg = ("died", None, [])
            elif timeout is not None and time.perf_counter() - t0 > timeout:
                msg = ("timeout", None, [])
        worker.join(2.0)
        if msg[0] != "ok":
            err = LavaRuntimeError(
                f"a Lava process failed in its child process:\n{msg[1]}" if msg[0] == "error"
                else f"the Lava run exceeded timeout={timeout} s and was killed"
                if msg[0] == "timeout"
                else f"the Lava worker process died (exit code {worker.exitcode})")
            err.worker_pid, err.segments = worker.pid, msg[2]
            raise err
        result = _collect(model, *msg[1])
        result.worker_pid, result.segments = worker.pid, msg[2]
        return result
    finally:
        recv.close()
        if worker.pid is not None:
            _kill_group(worker.pid)  # a no-op after a clean exit
            worker.join(2.0)
        shutil.rmtree(model._dir, ignore_errors=True)


def _actor_failure(actors):
    """Traceback of the first failed Lava child, or None while all are healthy."""
    for a in actors:
        try:
            exc = a.exception
        except (OSError, EOFError, ValueError):
            exc = None
        if exc:
            return exc[1]
        if a.exitcode not in (None, 0):
            return f"Lava child process {a.name} (pid {a.pid}) died with exit code {a.exitcode}"
    return None


def _segment_names(runtime):
    """Names of the shared-memory segments of Lava's channels (read before stopping)."""
    smm = runtime._messaging_infrastructure.smm
    handles = getattr(smm, "_shared_memory_handles", []) if smm is not None else []
    return [h.name for h in handles]


def _release_segments(names):
    """Backstop after Lava's own release: on a loaded machine the shared-memory server
    may miss its 1 s shutdown deadline and be terminated before unlinking everything."""
    for name in names:
        path = os.path.join("/dev/shm", name.lstrip("/"))
        if os.path.exists(path):
            try:
                os.unlink(path)
                resource_tracker.unregister("/" + name.lstrip("/"), "shared_memory")
            except OSError:
                pass


def _teardown(runtime):
    """Stop a broken runtime without waiting on it: kill children, free shared memory."""
    names = _segment_names(runtime)
    mi = runtime._messaging_infrastructure
    for a in mi.actors:
        if a.is_alive():
            a.kill()
    for a in mi.actors:
        a._popen.wait(1.0) if a._popen is not None else None
    if mi.smm is not None:
        mi.smm.shutdown()
    _release_segments(names)
    try:
        runtime._watchdog_manager.stop()
    except Exception:  # noqa: BLE001 - best effort on a broken runtime
        pass
    runtime._is_started = False  # lets Runtime.__del__ skip its blocking stop()
    return names


def _worker(model, conn):
    """Body of the forked worker: compile, run and watch the Lava processes."""
    os.setpgid(0, 0)  # our own process group: the parent can kill the whole tree
    mp.set_start_method("fork", force=True)
    runtime = None
    try:
        L = _lava()
        procs = list(model.neurons.values()) + list(model.sources.values())
        anchor = procs[0]
        cfg = L.Loihi2SimCfg(select_tag="fixed_pt" if model.fixed_point else "floating_pt",
                             exception_proc_model_map={
                                 **{rec: L.RecorderModel for rec in model.recorders.values()},
                                 **{p: L.ThirdFactorModel
                                    for p in model.third_factors.values()},
                                 **({p: L.LearningDenseFixed for p in model.plastic.values()}
                                    if model.learning == "fixed" else
                                    {p: L.LearningDenseFloat for p in model.plastic.values()})})
        t0 = time.perf_counter()
        anchor.create_runtime(run_cfg=cfg)
        runtime = anchor.runtime
        build_s = time.perf_counter() - t0
        failure = _actor_failure(runtime._messaging_infrastructure.actors)
        if failure is None:
            t0 = time.perf_counter()
            done = 0
            for stop in sorted(model.breaks) + [model.n_steps]:
                if failure is not None:
                    break
                if stop > done:
                    anchor.run(condition=L.RunSteps(num_steps=stop - done, blocking=False))
                    failure = _wait(runtime)
                    done = stop
                if failure is None and stop < model.n_steps:
                    for var, value in model.breaks[stop]:  # between runs (Var.set)
                        var.set(np.asarray(value))
            wall_s = time.perf_counter() - t0
        if failure is not None:
            conn.send(("error", failure, _teardown(runtime)))
            return
        weights = {name: np.asarray(proc.weights.get()) for name, proc in model.plastic.items()}
        weights.update({(name, "tag"): np.asarray(model.plastic[name].tag_1.get())
                        for name in model.third_factors})
        names = _segment_names(runtime)
        anchor.stop()
        _release_segments(names)
        conn.send(("ok", (build_s, wall_s, weights), names))
    except BaseException:  # noqa: BLE001 - everything goes back to the parent
        tb = traceback.format_exc()
        conn.send(("error", tb, _teardown(runtime) if runtime is not None else []))
    finally:
        conn.close()
        os._exit(0)  # skip lava's atexit / __del__ handlers, which can block


def _wait(runtime):
    """Poll until every runtime service reports done, or a child fails."""
    actors = runtime._messaging_infrastructure.actors
    ports = runtime.service_to_runtime
    while True:
        if all(p.probe() for p in ports):
            runtime.wait()
            return None
        failure = _actor_failure(actors)
        if failure is not None:
            return failure
        time.sleep(0.01)


def _collect(model, build_s, wall_s, weights):
    net = model.net
    rec = {}
    for name in model.recorders:
        with np.load(os.path.join(model._dir, f"{name}.npz")) as f:
            rec[name] = {k: f[k] for k in f.files}
    pops = {p.name: p for p in net.populations}
    out, state = [], {}
    for m in net.monitors:
        pop, lo = m.target.population, m.target.start
        if describe(pop.model).lava == "lif":  # recorded; inputs: the spikes they replayed
            steps, gidx = rec[pop.name]["steps"], rec[pop.name]["idx"]
        else:
            steps, gidx = model.input_spikes[pop.name]
            order = np.lexsort((gidx, steps))
            steps, gidx = steps[order], gidx[order]
        if isinstance(m, SpikeMonitor):
            new = SpikeMonitor(net, m.target)
            new._record(steps.astype(np.int64), gidx.astype(np.int64), lo)
        elif isinstance(m, RateMonitor):
            new = RateMonitor(net, m.target)
            keep = (gidx >= lo) & (gidx < m.target.stop)
            new._record(np.arange(model.n_steps, dtype=np.int64),
                        np.bincount(steps[keep], minlength=model.n_steps).astype(np.int64))
        elif isinstance(m, StateMonitor):
            new = StateMonitor(net, m.target, m.var, m.record, m.every)
            r = rec[pop.name]
            after = r[m.var]  # value after each step 1..n: the start of steps 1..n
            series = np.vstack([pops[pop.name].state[m.var][None, :], after[:-1]])
            at = np.arange(0, model.n_steps, m.every)
            new._record(at.astype(np.int64), series[at][:, lo + m.record])
            state[pop.name] = {"v": r["v"][-1].copy(), "u": r["u"][-1].copy()}
        else:  # pragma: no cover - rejected by _check_network
            raise UnsupportedFeature(type(m).__name__)
        new._start_step = 0
        out.append(new)
    learned, elig = {}, {}
    for pr in net.projections:
        if pr.name in weights:  # back to neuromorph's synapse order
            at = (pr.targets + pr.post.start, pr.sources + pr.pre.start)
            learned[pr.name] = weights[pr.name][at]
            if pr.name in model.third_factors:  # brought up to the end of the run, as
                tag = weights[(pr.name, "tag")][at]  # neuromorph does after the last step
                elig[pr.name] = tag * np.exp(-net.dt / pr.plasticity.tau_elig)
    return LavaResult(out, state, wall_s, build_s, learned, elig)
