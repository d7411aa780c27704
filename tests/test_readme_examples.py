"""The README's python blocks run as a reader runs them: every one, as written, top to
bottom, in one fresh interpreter, in an empty directory. Probes inserted between the
blocks (they only read variables) record what each block computed; the assertions check
it against the README's claims and independent expectations."""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


# after block k, record into the dict ``_probe`` (the names each block defines)
PROBES = {
    0: "_probe['cuba_rate'] = len(spikes.t) / 4000 / 1.0; "
       "_probe['cuba_tmax'] = float(spikes.t.max())",
    1: "_probe['w_same'] = bool(np.array_equal(proj.weights, W)); "
       "_probe['d_same'] = bool(np.allclose(proj.delays, np.where(W != 0, D, 0), atol=1e-12))",
    2: "_w = proj.weights.ravel(); _probe['song'] = [float(_w.min()), float(_w.max()), "
       "float(np.mean(_w < 0.06)), float(np.mean(_w > 0.54)), float(_w.mean() / 0.6)]",
    3: "_probe['rstdp'] = [float(to_go.weights.mean()), float(to_nogo.weights.mean()), "
       "int(np.sum(s_go.t >= net.t - 1000.0)), int(np.sum(s_nogo.t >= net.t - 1000.0)), "
       "list(to_go.eligibility.shape)]",
    4: "_probe['dc_score'] = float(clf.score(X_test, y_test))",
    5: "_probe['learners'] = [float(spc.score(X_test, y_test)), float(eqs.score(X_test, y_test)),"
       " len(eqs.history_['accuracy']), bool(np.array_equal(EqSpike.load('eqspike.npz')"
       ".predict(X_test), eqs.predict(X_test)))]",
    6: "_probe['lava'] = [int(mon.num_spikes), type(res.monitors[0]) is type(mon), "
       "bool(np.array_equal(res.monitors[0].steps, mon.steps)), "
       "bool(np.array_equal(res.monitors[0].i, mon.i))]",
    7: "_probe['deploy'] = [float(dep.score(X_test, y_test)), float(clf.score(X_test, y_test)), "
       "float(fix.score(X_test, y_test)), float(est.energy_j), int(est.synaptic_ops)]",
}


@pytest.fixture(scope="module")
def readme_run(tmp_path_factory):
    code = blocks()
    assert len(code) == len(PROBES), "a README block was added or removed: probe it here"
    script = ["_probe = {}"]
    for k, block in enumerate(code):
        script += [block, "import numpy as np", PROBES[k]]
    script.append("import json; print('PROBE ' + json.dumps(_probe))")
    cwd = tmp_path_factory.mktemp("reader")          # an empty directory
    out = subprocess.run([sys.executable, "-c", "\n".join(script)], cwd=cwd,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    line, = [x for x in out.stdout.splitlines() if x.startswith("PROBE ")]
    return json.loads(line[len("PROBE "):]), cwd


def test_readme_blocks_run_top_to_bottom_in_a_fresh_interpreter(readme_run):
    probe, cwd = readme_run
    assert set(probe) == {"cuba_rate", "cuba_tmax", "w_same", "d_same", "song", "rstdp",
                          "dc_score", "learners", "lava", "deploy"}
    assert {p.name for p in cwd.iterdir()} == {"eqspike.npz"}  # the checkpoint it writes


def test_cuba_and_explicit_connectivity(readme_run):
    probe, _ = readme_run
    assert 2.0 < probe["cuba_rate"] < 15.0   # Brian2's CUBA example fires at ~5-6 Hz
    assert probe["cuba_tmax"] < 1000.0
    assert probe["w_same"] and probe["d_same"]


def test_song_stdp_block_gives_the_stated_bimodal_weights(readme_run):
    # README: 27.7 % below 0.1 w_max, 17.9 % above 0.9 w_max, mean 0.43 w_max after 100 s
    w_min, w_max, low, high, mean = readme_run[0]["song"]
    assert w_min >= 0 and w_max <= 0.6
    assert low == pytest.approx(0.277, abs=0.005) and high == pytest.approx(0.179, abs=0.005)
    assert mean == pytest.approx(0.43, abs=0.01)


def test_rstdp_block_rewards_the_chosen_neuron(readme_run):
    go, nogo, late_go, late_nogo, shape = readme_run[0]["rstdp"]
    # both start at mean 1.0 mV: reward drives "go" up and punishment drives "nogo" down
    assert go > 1.2 and nogo < 0.8
    assert late_go > 3 * late_nogo and shape == [100]


def test_learner_blocks_reach_their_stated_scores(readme_run):
    probe, _ = readme_run
    assert probe["dc_score"] == pytest.approx(0.86, abs=0.03)          # README: ~0.86
    spc, eqs, epochs, reloaded = probe["learners"]
    assert spc == pytest.approx(0.94, abs=0.03) and eqs == pytest.approx(0.98, abs=0.02)
    assert epochs == 10 and reloaded


def test_lava_block_gives_the_spikes_neuromorph_predicted(readme_run):
    n_spikes, same_type, same_steps, same_idx = readme_run[0]["lava"]
    assert n_spikes > 50 and same_type and same_steps and same_idx


def test_deploy_block_keeps_the_learners_answer(readme_run):
    deployed, learner, fixed, energy_j, syn_ops = readme_run[0]["deploy"]
    assert deployed == learner                      # float deployment: the same answers
    assert learner == pytest.approx(0.92, abs=0.03)  # README: ~0.92
    assert abs(fixed - learner) <= 0.02              # issue 17: <= 2 points for fixed point
    assert 1e-6 < energy_j < 2e-5 and syn_ops > 0    # README: ~4 uJ per inference
