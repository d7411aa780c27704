"""Layered Hopfield network shared by the energy-based families (spec §4.17, §4.19).

States h^ℓ (ℓ = 1..L) of a layered network with symmetric connections; the input is
clamped, ρ(h^0) := x. With feedback gain γ = 1 the dynamics are the gradient flow of the
total energy F = E + β C (Scellier & Bengio 2017)::

    E = ½ Σ_ℓ ‖h^ℓ‖² − Σ_ℓ ρ(h^ℓ)^T W^ℓ ρ(h^{ℓ−1}) − Σ_ℓ (b^ℓ)^T ρ(h^ℓ)
    C = ½ ‖h^L − y‖²
    dh^ℓ/dt = −∂F/∂h^ℓ = ρ'(h^ℓ) ⊙ (W^ℓ ρ(h^{ℓ−1}) + γ (W^{ℓ+1})^T ρ(h^{ℓ+1}) + b^ℓ) − h^ℓ
                          [− β (h^L − y) on the output layer]

integrated by Euler steps of size ε, all layers in parallel. γ < 1 damps the top-down
term (CHL, Xie & Seung 2003); γ ≠ 1 leaves the energy picture. With rows as samples,
W^ℓ ρ(h^{ℓ−1}) reads ``ρ(h^{ℓ−1}) @ W.T``.
"""


def feedforward_states(net, rho, X):
    """Bottom-up initial states h^ℓ = W^ℓ ρ(h^{ℓ−1}) + b^ℓ (no top-down input)."""
    states, r = [], X
    for W, b in zip(net.W, net.b):
        states.append(r @ W.T + b)
        r = rho.f(states[-1])
    return states


def relax(net, rho, X, states, n_steps, step, beta=0.0, Y=None, clamp_output=None, gain=1.0):
    """Run ``n_steps`` Euler steps of the layered dynamics; returns the new states.

    Parameters
    ----------
    net : DenseStack
        Supplies W^ℓ, b^ℓ.
    rho : Activation
        ρ and ρ'.
    X : ndarray (n, J_0)
        Clamped input rates.
    states : list of ndarray
        Initial h^1..h^L (not modified).
    step : float
        Euler step ε.
    beta : float
        Nudging strength β (may be negative for symmetric EP).
    Y : ndarray or None
        Target for the nudge.
    clamp_output : ndarray or None
        If given, h^L is held at this value (CHL's clamped phase).
    gain : float
        Feedback gain γ on the top-down term.
    """
    hs = [h.copy() for h in states]
    L = len(hs)
    if clamp_output is not None:
        hs[-1] = clamp_output.copy()
    for _ in range(n_steps):
        rs = [X] + [rho.f(h) for h in hs]
        new = []
        for l in range(L):
            drive = rs[l] @ net.W[l].T + net.b[l]
            if l + 1 < L:
                drive = drive + gain * (rs[l + 2] @ net.W[l + 1])
            grad = hs[l] - rho.df(hs[l]) * drive
            if l == L - 1 and beta != 0.0:
                grad = grad + beta * (hs[l] - Y)
            new.append(hs[l] - step * grad)
        if clamp_output is not None:
            new[-1] = hs[-1]
        hs = new
    return hs


def energy(net, rho, X, states, beta=0.0, Y=None):
    """Per-sample total energy F = E + β C (γ = 1)."""
    rs = [X] + [rho.f(h) for h in states]
    F = sum(0.5 * (h**2).sum(axis=1) for h in states)
    for l, (W, b) in enumerate(zip(net.W, net.b)):
        F = F - ((rs[l + 1] @ W) * rs[l]).sum(axis=1) - rs[l + 1] @ b
    if beta != 0.0:
        F = F + beta * 0.5 * ((states[-1] - Y) ** 2).sum(axis=1)
    return F


def hebbian_products(rho, X, states):
    """Per-layer batch-mean products ρ(h^ℓ)^T ρ(h^{ℓ−1}) / n and mean ρ(h^ℓ) (= −∂E/∂θ)."""
    rs = [X] + [rho.f(h) for h in states]
    n = X.shape[0]
    return [rs[l + 1].T @ rs[l] / n for l in range(len(states))] + [r.mean(axis=0) for r in rs[1:]]
