"""A spiking agent learns CartPole-v1 by R-STDP (closed loop through ``net.run`` callbacks).

Agent (all on the event-driven core):

* **Sensors** — 4 state variables (cart position and velocity, pole angle and angular
  velocity), each coded by ``n_bins`` LIF neurons with Gaussian tuning: neuron ``k`` of
  variable ``i`` receives a current ``I_max exp(-(s_i - c_k)^2 / 2 sigma^2)`` (set from
  the callback each environment step), so it fires regularly when the state is near its
  preferred value.
* **Actors** — two groups of LIF neurons ("push left", "push right"), each driven by all
  sensors through R-STDP synapses, with mutual inhibition between the groups and a
  private Poisson input per neuron (exploration noise).

Each environment step lasts ``t_step`` ms of simulated time. At its end the callback
reads the actors' spike counts, takes the action of the group that fired most (random on
a tie), steps the environment, delivers a phasic reward and sets the sensor currents for
the new state. The reward is shaped from the observed state, not from the policy: ``+1``
if the pole's "danger" ``|theta| / 0.21 + |theta_dot| / 2`` decreased during the step,
``-1`` if it increased, ``-1`` when the episode fails; a running-mean baseline turns it
into a reward-prediction error. The eligibility traces (``tau_elig`` = 100 ms, five
steps) credit the synapses that drove the last few actions. (With a one-step trace,
20 ms, and 16 bins per variable the last 100 training episodes averaged 169-179
steps instead of 181-190 on seeds 0-4, and the test means were 229.6 +- 48.5 with
seed 3 at 187.8, against 226.1 +- 16.9 with every seed >= 205 now.)

Limits (measured, 5 seeds): the training episode length plateaus below 200 steps
after ~50 episodes, and most test episodes end with the cart leaving the track, not
the pole falling. The shaped reward sees only the pole; a one-step reward for keeping
the cart central would teach the wrong sign (to bring the cart back the controller must
first push it outwards to tilt the pole inwards), so this needs credit assignment over
many steps (a slower dopamine signal or a learned critic), which this agent does not have.

Writes into ``--out`` (default ``experiments/results/cartpole/``):
``learning_curve.png/.svg`` (episode length during training and in the frozen test),
``metrics.json`` (per seed and mean +- std over seeds: mean episode length over the
last training episodes and over 100 test episodes with learning switched off) and
``seeds/seed_<k>.json`` (each seed's full record).

Usage::

    python experiments/cartpole.py             # seeds 0-4, each 300 training + 100 test
                                               # episodes (~1.5-3 min per seed)
    python experiments/cartpole.py --seed 2    # one seed
    python experiments/cartpole.py --quick     # seed 0, 60 + 20 episodes

Needs ``gymnasium`` (an install requirement of neuromorph; CartPole ships with it).
"""
import argparse
import json
import os
import time

import numpy as np

import neuromorph as nm

V_REST, V_TH = -65.0, -50.0
RANGES = np.array([[-2.4, 2.4], [-2.0, 2.0], [-0.21, 0.21], [-2.0, 2.0]])


class SpikingAgent:
    """Sensors -> (R-STDP) -> two competing actor groups; see the module docstring."""

    def __init__(self, n_bins=24, n_actor=10, t_step=20.0, dt=0.5, lr=0.02, tau_elig=100.0,
                 baseline_rate=0.05, noise_rate=100.0, seed=0):
        self.n_bins, self.n_actor, self.t_step, self.dt = n_bins, n_actor, t_step, dt
        self.rng = np.random.default_rng(seed)
        net = self.net = nm.Network(dt=dt, seed=seed)
        n_in = 4 * n_bins
        self.centers = np.concatenate([np.linspace(lo, hi, n_bins) for lo, hi in RANGES])
        self.sigma = np.repeat((RANGES[:, 1] - RANGES[:, 0]) / (n_bins - 1), n_bins)
        self.sensors = net.lif(n_in, tau_m=10.0, v_rest=V_REST, v_reset=V_REST, v_th=V_TH,
                               t_ref=2.0, name="sensors")
        self.drive = net.current(self.sensors, np.zeros(n_in))
        self.actors = net.lif(2 * n_actor, tau_m=10.0, v_rest=V_REST, v_reset=V_REST, v_th=V_TH,
                              t_ref=2.0, tau_syn_exc=5.0, tau_syn_inh=10.0, name="actors")
        self.reward = net.reward_signal(None, baseline_rate=baseline_rate)
        w_max = 8.0
        self.rule = nm.RSTDP(tau_pre=20.0, tau_post=20.0, a_plus=1.0, a_minus=0.0,
                             tau_elig=tau_elig, lr=lr, w_min=0.0, w_max=w_max)
        self.proj = net.connect(self.sensors, self.actors, w=nm.uniform(0.3 * w_max, 0.6 * w_max),
                                plasticity=self.rule, name="sense->act")
        group = np.repeat([0, 1], n_actor)
        inh = np.where(group[:, None] != group[None, :], -8.0, 0.0)
        net.connect(self.actors, self.actors, matrix=inh, name="compete")
        noise = net.poisson(2 * n_actor, rate=noise_rate, name="noise")
        net.connect(noise, self.actors, w=6.0, connectivity_rule="one_to_one")
        self.spikes = net.spike_monitor(self.actors)
        self._seen = 0

    def encode(self, obs):
        s = np.repeat(np.clip(obs, RANGES[:, 0], RANGES[:, 1]), self.n_bins)
        self.drive.amplitude[:] = 40.0 * np.exp(-0.5 * ((s - self.centers) / self.sigma) ** 2)

    def act(self):
        i = self.spikes.i[self._seen:]
        self._seen += len(i)
        counts = np.bincount(i // self.n_actor, minlength=2)
        if counts[0] == counts[1]:
            return int(self.rng.integers(2)), counts
        return int(np.argmax(counts)), counts

    def reset_actors(self):
        self.actors.v[:] = V_REST
        self.actors.I_exc[:] = 0.0
        self.actors.I_inh[:] = 0.0


def danger(obs):
    return abs(obs[2]) / 0.21 + abs(obs[3]) / 2.0


def end_reason(obs, terminated):
    """Why an episode ended: the cart left the track, the pole fell, or the time limit."""
    if not terminated:
        return "time_limit"
    return "cart_out" if abs(obs[0]) > 2.4 else "pole_fell"


def run_episode(agent, env, seed, learn, max_steps=500, info=None):
    """One episode; returns its length (steps) and, in ``info["end"]``, why it ended."""
    obs, _ = env.reset(seed=int(seed))
    agent.encode(obs)
    agent.reset_actors()
    state = dict(obs=obs, steps=0, done=False)

    def step(net):
        action, _ = agent.act()
        obs, _, terminated, truncated, _ = env.step(action)
        state["steps"] += 1
        if learn:
            r = -1.0 if terminated else (1.0 if danger(obs) < danger(state["obs"]) else -1.0)
            agent.reward.deliver(r)
        state["obs"] = obs
        agent.encode(obs)
        agent.reset_actors()
        if terminated or truncated or state["steps"] >= max_steps:
            state["end"] = end_reason(obs, terminated)
            raise StopIteration

    try:
        agent.net.run(max_steps * agent.t_step + agent.t_step, callback=step, every=agent.t_step)
    except StopIteration:
        pass
    # let the last reward act, then drop the STDP state of this episode
    agent.net.run(agent.dt)
    agent.spikes.i  # consolidate
    agent._seen = agent.spikes.num_spikes
    if info is not None:
        info["end"] = state.get("end", "time_limit")
    return state["steps"]


def run_seed(seed, n_train, n_test, log=print):
    """Train a fresh agent for ``n_train`` episodes, then test it frozen; returns metrics."""
    import gymnasium as gym

    env = gym.make("CartPole-v1")
    agent = SpikingAgent(seed=seed)
    t0 = time.perf_counter()
    train = []
    for ep in range(n_train):
        train.append(run_episode(agent, env, seed=seed * 100000 + ep, learn=True))
        if (ep + 1) % 20 == 0:
            log(f"seed {seed}, episode {ep + 1}: mean length of last 20 = "
                f"{np.mean(train[-20:]):.1f}")
    t_train = time.perf_counter() - t0
    test, ends = [], []
    for k in range(n_test):
        info = {}
        test.append(run_episode(agent, env, seed=10**6 + seed * 1000 + k, learn=False,
                                info=info))
        ends.append(info["end"])
    return dict(
        seed=seed, train_episodes=n_train, test_episodes=n_test,
        train_mean_length_last_100=float(np.mean(train[-100:])),
        test_mean_length=float(np.mean(test)), test_median_length=float(np.median(test)),
        test_fraction_500=float(np.mean(np.asarray(test) >= 500)),
        test_end_reasons={e: ends.count(e) for e in ("cart_out", "pole_fell", "time_limit")},
        reached_target=bool(np.mean(test) >= 195.0),
        train_lengths=[int(v) for v in train], test_lengths=[int(v) for v in test],
        wall_time_train_s=t_train, wall_time_total_s=time.perf_counter() - t0,
    )


def aggregate(runs):
    """Summary over seeds: mean +- std (over seeds) of each seed's 100-episode test mean."""
    tm = np.array([r["test_mean_length"] for r in runs])
    return dict(
        seeds=[r["seed"] for r in runs], n_seeds=len(runs),
        train_episodes=runs[0]["train_episodes"], test_episodes=runs[0]["test_episodes"],
        test_mean_length_per_seed=tm.tolist(),
        test_mean_length_mean=float(tm.mean()),
        test_mean_length_std=float(tm.std(ddof=1)) if len(tm) > 1 else 0.0,
        test_mean_length_min=float(tm.min()),
        test_mean_length_all_episodes=float(np.mean([v for r in runs
                                                     for v in r["test_lengths"]])),
        train_mean_length_last_100_per_seed=[r["train_mean_length_last_100"] for r in runs],
        seeds_reaching_target=int(np.sum(tm >= 195.0)),
        test_end_reasons={e: int(sum(r["test_end_reasons"][e] for r in runs))
                          for e in ("cart_out", "pole_fell", "time_limit")},
        target_mean_length=195.0, reached_target=bool(tm.mean() >= 195.0),
        wall_time_total_s_per_seed=[r["wall_time_total_s"] for r in runs],
        per_seed=runs,
    )


def plot(runs, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from neuromorph.plot import PALETTE, save
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 3.8), width_ratios=[3, 1.2])
    for j, r in enumerate(runs):
        train, c = r["train_lengths"], PALETTE[j % len(PALETTE)]
        k = min(20, len(train))
        ax.plot(np.arange(k, len(train) + 1), np.convolve(train, np.ones(k) / k, "valid"),
                color=c, lw=1.2, label=f"seed {r['seed']}")
    ax.axhline(195, color="k", ls=":", lw=1, label="target 195")
    ax.set_xlabel("training episode")
    ax.set_ylabel("episode length (steps), mean of 20")
    ax.set_title("Training (learning on)", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", ncol=2)
    tm = np.array([r["test_mean_length"] for r in runs])
    for j, r in enumerate(runs):
        c = PALETTE[j % len(PALETTE)]
        x = j + np.random.default_rng(j).uniform(-0.25, 0.25, len(r["test_lengths"]))
        bx.plot(x, r["test_lengths"], ".", color=c, ms=2, alpha=0.5)
        bx.plot([j - 0.35, j + 0.35], [tm[j]] * 2, color=c, lw=2.5)
    bx.axhline(195, color="k", ls=":", lw=1)
    bx.set_xticks(range(len(runs)), [str(r["seed"]) for r in runs])
    ends = {e: sum(r.get("test_end_reasons", {}).get(e, 0) for r in runs)
            for e in ("cart_out", "pole_fell", "time_limit")}
    bx.set_xlabel(f"seed\n(test episodes ended: cart off track {ends['cart_out']}, "
                  f"pole fell {ends['pole_fell']}, 500 steps {ends['time_limit']})",
                  fontsize=8)
    bx.set_ylabel("test episode length (bar: mean of 100)")
    sd = tm.std(ddof=1) if len(tm) > 1 else 0.0
    bx.set_title(f"Test, learning off: {tm.mean():.0f} $\\pm$ {sd:.0f}", fontsize=9)
    fig.suptitle(f"CartPole-v1, spiking agent trained by R-STDP ({len(runs)} seeds)",
                 fontsize=10)
    fig.tight_layout()
    save(fig, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results",
                                                  "cartpole"))
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seed", type=int, default=None, help="run this seed only")
    ap.add_argument("--seeds", type=int, nargs="+", default=None,
                    help="seeds to run (default 0-4; --quick: 0)")
    ap.add_argument("--train", type=int, default=None, help="training episodes")
    ap.add_argument("--test", type=int, default=None, help="test episodes (no learning)")
    ap.add_argument("--aggregate-only", action="store_true",
                    help="only rebuild metrics.json and the figure from seeds/seed_*.json")
    args = ap.parse_args(argv)
    n_train = args.train or (60 if args.quick else 300)
    n_test = args.test or (20 if args.quick else 100)
    seeds = [args.seed] if args.seed is not None else \
        (args.seeds or ([0] if args.quick else [0, 1, 2, 3, 4]))
    os.makedirs(os.path.join(args.out, "seeds"), exist_ok=True)
    runs = []
    for seed in seeds:
        path = os.path.join(args.out, "seeds", f"seed_{seed}.json")
        if not args.aggregate_only:
            r = run_seed(seed, n_train, n_test, log=lambda s: print(s, flush=True))
            with open(path, "w") as f:
                json.dump(r, f, indent=1)
            print(f"seed {seed}: test mean length {r['test_mean_length']:.1f} "
                  f"({r['wall_time_total_s']:.0f} s)", flush=True)
        with open(path) as f:
            runs.append(json.load(f))
    metrics = aggregate(runs)
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2)
    plot(runs, os.path.join(args.out, "learning_curve.png"))
    print(json.dumps({k: v for k, v in metrics.items() if k != "per_seed"}, indent=2))


if __name__ == "__main__":
    main()
