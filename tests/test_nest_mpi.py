"""Gathering and merging NEST's per-rank records (issue 18, item 4).

The pip wheel of NEST has no MPI, so NEST itself never runs under MPI here. What is
tested is the helper, on NEST's real per-process output: a 2-thread NEST run writes one
ASCII file per virtual process (exactly the files K MPI ranks write), and its in-memory
recorder gives the whole record to compare with. The MPI part runs under
``mpiexec -n 2`` (MPICH from PyPI, mpi4py).
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import neuromorph
from neuromorph.backends.nest_mpi import (merge_events, merge_files, read_ascii,
                                          write_rank_events)

MPIEXEC = os.path.join(os.path.dirname(sys.executable), "mpiexec")

_NEST_RUN = textwrap.dedent("""
    import os, sys
    import numpy as np
    os.environ["PYNEST_QUIET"] = "1"; os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    import nest
    nest.verbosity = nest.VerbosityLevel.ERROR
    os.chdir(sys.argv[1])
    nest.ResetKernel()
    nest.local_num_threads = 2
    n = nest.Create("iaf_psc_exp", 9, params={"I_e": 380.0})
    n.I_e = 376.0 + 4.0 * np.arange(9)             # different rates: interleaved spikes
    noise = nest.Create("poisson_generator", params={"rate": 3000.0})
    nest.Connect(noise, n, syn_spec={"weight": 30.0})
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": 5.0,
                                           "record_to": "ascii", "label": "vm"})
    nest.Connect(mm, n)
    to_file = nest.Create("spike_recorder", params={"record_to": "ascii", "label": "spk"})
    in_memory = nest.Create("spike_recorder")
    nest.Connect(n, to_file); nest.Connect(n, in_memory)
    nest.Simulate(300.0)
    ev = in_memory.get("events")
    np.savez("reference.npz", senders=ev["senders"], times=ev["times"])
""")


@pytest.fixture(scope="module")
def nest_output(tmp_path_factory):
    """A 2-thread NEST run: per-VP ASCII files and the whole in-memory record."""
    folder = tmp_path_factory.mktemp("nest_out")
    subprocess.run([sys.executable, "-c", _NEST_RUN, str(folder)], check=True,
                   capture_output=True, timeout=120)
    with np.load(folder / "reference.npz") as f:
        ref = {"senders": f["senders"].astype(np.int64), "times": f["times"]}
    return folder, ref


def _sorted(ev):
    order = np.lexsort((ev["senders"], ev["times"]))
    return ev["senders"][order], ev["times"][order]


def test_per_vp_ascii_files_merge_into_the_whole_record(nest_output):
    folder, ref = nest_output
    files = sorted(folder.glob("spk-*.dat"))
    assert len(files) == 2                                   # one per virtual process
    parts = [read_ascii(f) for f in files]
    assert all(len(p["sender"]) for p in parts)              # both VPs spiked
    assert set(parts[0]["sender"] % 2) != set(parts[1]["sender"] % 2)  # round-robin
    merged = merge_files(str(folder / "spk-*.dat"))
    senders, times = _sorted(ref)
    assert len(ref["senders"]) > 100
    np.testing.assert_array_equal(merged["sender"], senders)
    np.testing.assert_allclose(merged["time_ms"], times, atol=5e-4)  # 3 decimals in files
    assert np.all(np.diff(merged["time_ms"]) >= 0)


def test_multimeter_files_merge_with_their_columns(nest_output):
    folder, _ = nest_output
    merged = merge_files(sorted(str(p) for p in folder.glob("vm-*.dat")))
    assert set(merged) == {"sender", "time_ms", "V_m"}
    # every neuron at every 5 ms sample: 9 neurons x 59 samples (5..295 ms)
    assert len(merged["sender"]) == 9 * 59
    np.testing.assert_array_equal(np.bincount(merged["sender"])[1:], np.full(9, 59))


def test_merge_is_independent_of_how_the_record_was_split():
    rng = np.random.default_rng(0)
    ev = {"senders": rng.integers(1, 50, 500), "times": np.round(rng.uniform(0, 100, 500), 1)}
    whole = merge_events([ev])
    for k in (2, 3, 7):
        owner = ev["senders"] % k                              # NEST's round-robin
        parts = [{f: v[owner == r] for f, v in ev.items()} for r in range(k)]
        split = merge_events(parts[::-1])
        for f in ev:
            np.testing.assert_array_equal(split[f], whole[f])


def test_bad_events_are_refused():
    with pytest.raises(TypeError, match="events must be a non-empty dict"):
        write_rank_events([1, 2], "x", 0)
    with pytest.raises(ValueError, match="one length"):
        merge_events([{"senders": np.arange(3), "times": np.arange(2.0)}])
    with pytest.raises(ValueError, match="at least one"):
        merge_events([])
    with pytest.raises(FileNotFoundError, match="no file matches"):
        merge_files("/nonexistent/spk-*.dat")


_MPI_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from mpi4py import MPI
    from neuromorph.backends.nest_mpi import gather_events, read_ascii, write_rank_events
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    folder = sys.argv[1]
    # this rank's share: the file of the virtual process it would own under MPI
    f = read_ascii(sorted(__import__("glob").glob(folder + "/spk-*.dat"))[rank])
    local = {"senders": f["sender"], "times": f["time_ms"]}
    root = gather_events(local, root=0)
    everywhere = gather_events(local, all=True)
    write_rank_events(local, folder + "/ranks", rank)
    if rank == 0:
        np.savez(folder + "/gathered.npz", **root)
    else:
        assert root is None
    np.savez(folder + f"/all{rank}.npz", size=size, **everywhere)
""")


def test_gather_under_mpiexec_two_ranks(nest_output):
    folder, ref = nest_output
    script = folder / "gather.py"
    script.write_text(_MPI_SCRIPT)
    root = os.path.dirname(os.path.dirname(os.path.abspath(neuromorph.__file__)))
    env = dict(os.environ, PYTHONPATH=root)   # this checkout's neuromorph on every rank
    out = subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(script), str(folder)],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    senders, times = _sorted(ref)
    for rank in (0, 1):                                      # two ranks, both answered
        with np.load(folder / f"all{rank}.npz") as g:
            assert int(g["size"]) == 2
    for name in ("gathered.npz", "all0.npz", "all1.npz"):
        with np.load(folder / name) as g:
            np.testing.assert_array_equal(g["senders"], senders)
            np.testing.assert_allclose(g["times"], times, atol=5e-4)
    merged = merge_files(str(folder / "ranks" / "spikes-rank*.npz"))
    np.testing.assert_array_equal(merged["senders"], senders)


def test_run_nest_sees_the_mpi_launch(tmp_path):
    """Under ``mpiexec -n 2`` every rank knows it is one of several, so ``run_nest``
    runs NEST in place there (the same script runs unchanged); a plain run isolates."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(neuromorph.__file__)))
    code = ("from neuromorph.backends.nest import under_mpi; import sys; "
            "open(sys.argv[1] + '/rank' + __import__('os').environ['PMI_RANK'], 'w')"
            ".write(str(under_mpi()))")
    out = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-c", code, str(tmp_path)],
                         capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=root))
    assert out.returncode == 0, out.stderr[-2000:]
    assert [(tmp_path / f"rank{r}").read_text() for r in (0, 1)] == ["True", "True"]
    alone = subprocess.run([sys.executable, "-c", code.replace(
        "__import__('os').environ['PMI_RANK']", "'0'"), str(tmp_path)],
        capture_output=True, text=True, timeout=120, env=dict(os.environ, PYTHONPATH=root))
    assert alone.returncode == 0 and (tmp_path / "rank0").read_text() == "False"
