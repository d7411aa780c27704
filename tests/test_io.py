"""Save/load: exact continuation, and clear errors for bad files."""
import json
import os

import numpy as np
import pytest

import neuromorph as nm
import neuromorph.io

from helpers import random_network, rstdp_network


def test_saved_network_continues_exactly(tmp_path):
    ref = random_network(seed=8)
    mons = [ref.spike_monitor(p) for p in ref.populations]
    ref.run(240.0)
    net = random_network(seed=8)
    net.run(120.0)
    path = tmp_path / "net.npz"
    net.save(path)
    back = nm.Network.load(path)
    assert back.t == pytest.approx(120.0)
    mons2 = [back.spike_monitor(p) for p in back.populations]
    back.run(120.0)
    for m, m2 in zip(mons, mons2):
        keep = m.steps >= 1200
        np.testing.assert_array_equal(m.steps[keep], m2.steps)
        np.testing.assert_array_equal(m.i[keep], m2.i)
    assert sum(m.num_spikes for m in mons2) > 100
    for a, b in zip(ref.projections, back.projections):
        np.testing.assert_array_equal(a.w, b.w)
        assert a.name == b.name and a.plasticity == b.plasticity


def test_load_rejects_garbage(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a readable neuromorph"):
        nm.Network.load(bad)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(3))
    with pytest.raises(ValueError):
        nm.Network.load(other)


def _rewrite(path, out, header=None, drop=None, replace=None):
    data = dict(np.load(path))
    h = json.loads(bytes(data.pop("header")).decode())
    if header:
        h.update(header)
    if drop:
        data.pop(drop)
    if replace:
        data.update(replace)
    data["header"] = np.frombuffer(json.dumps(h).encode(), dtype=np.uint8)
    np.savez(out, **data)


def test_load_rejects_mismatched_files(tmp_path):
    net = random_network(seed=8)
    good = tmp_path / "good.npz"
    net.save(good)
    cases = [dict(header={"version": 99}), dict(header={"format": "something"}),
             dict(drop="proj1_w"), dict(replace={"proj1_w": np.zeros(3)}),
             dict(replace={"pop2_v": np.full(25, np.nan)})]
    for k, case in enumerate(cases):
        out = tmp_path / f"bad{k}.npz"
        _rewrite(good, out, **case)
        with pytest.raises(ValueError):
            nm.Network.load(out)


def test_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    net = random_network(seed=8)
    path = tmp_path / "net.npz"
    net.save(path)
    before = path.read_bytes()

    def disk_full(fh, **arrays):
        fh.write(b"partial")
        raise OSError("No space left on device")

    monkeypatch.setattr(nm.io.np, "savez_compressed", disk_full)
    with pytest.raises(OSError):
        net.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["net.npz"]


def test_rstdp_network_with_pending_reward_continues_exactly(tmp_path):
    ref, r_ref = rstdp_network(7)
    m_ref = ref.spike_monitor(ref.populations[2])
    r_ref.deliver(1.0)
    ref.run(60.0)
    r_ref.deliver(-0.5)
    ref.run(60.0)
    net, r = rstdp_network(7)
    r.deliver(1.0)
    net.run(60.0)
    r.deliver(-0.5)          # pending at save time
    net.save(tmp_path / "r.npz")
    back = nm.Network.load(tmp_path / "r.npz")
    m = back.spike_monitor(back.populations[2])
    back.run(60.0)
    np.testing.assert_array_equal(m.steps, m_ref.steps[m_ref.steps >= 600])
    for a, b in zip(ref.projections, back.projections):
        np.testing.assert_array_equal(a.w, b.w)
        if a.eligibility is not None:
            np.testing.assert_array_equal(a.eligibility, b.eligibility)
    assert back.modulators[0].history == r_ref.history
