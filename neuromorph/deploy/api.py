"""``nm.deploy``: a trained spiking learner as an inference network on a backend.

>>> import neuromorph as nm                                           # doctest: +SKIP
>>> clf = nm.models.spiking.CSDP(random_state=0).fit(X_train, y_train)
>>> dep = nm.deploy(clf)                      # backend "neuromorph": the core, float64
>>> dep.network                               # a neuromorph Network
>>> dep.predict(X_test), dep.score(X_test, y_test)

Every learner says how it deploys through its ``deploy_spec()`` method (builders in
:mod:`neuromorph.deploy.builders`); this module knows no learner class.
"""
from __future__ import annotations

import numpy as np

from .. import _checks

#: Backends :func:`deploy` accepts: the core in float64, the core with Loihi's
#: fixed-point CUBA neurons and 8-bit weights (:mod:`.quantize`).
BACKENDS = ("neuromorph", "loihi", "lava")


def _check_backend(backend):
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise ValueError(f"backend must be one of {list(BACKENDS)}, got {backend!r}")
    return backend


def deploy(model, backend="neuromorph", fixed_point=None, *, presentation=None, rest=None,
           max_retries=None):
    """Deploy a fitted spiking learner.

    Parameters
    ----------
    model : CSDP, SpikingPC, EqSpike, STDPClassifier or RSTDPClassifier
        A fitted learner (one with a ``deploy_spec`` method).
    backend : {"neuromorph", "loihi"}
        ``"neuromorph"``: the core engine in float64; ``"loihi"``: the core with Loihi's
        bit-accurate CUBA neurons and 8-bit weights, one scale per layer
        (:mod:`neuromorph.deploy.quantize`; the layered learners); ``"lava"``: that
        fixed-point network in Lava's bit-accurate simulation of Loihi 2, samples
        separated by a rest period after which every neuron is back at exactly 0, or
        (R-STDP trials) reset by ``Var.set`` between ``RunSteps`` segments; per-sample
        biases are set the same way; its spikes equal ``"loihi"``'s.
    fixed_point : bool or None
        ``None``: what the backend runs; ``True`` is allowed with ``"loihi"`` and
        ``"lava"`` (their only arithmetic here), ``False`` with ``"neuromorph"``.
    presentation, rest, max_retries : optional
        Learners that present each sample for a time (STDPClassifier): presentation
        and rest per sample (ms; default the learner's readout ``t_readout`` and
        ``t_rest``), re-presentations at a higher rate (default the learner's
        ``max_retries``; 0: none). A shorter presentation makes Lava runs shorter.

    Returns
    -------
    Deployment

    Raises
    ------
    TypeError
        ``model`` is not a spiking learner.
    sklearn.exceptions.NotFittedError
        ``model`` was not fitted.
    ValueError
        Unknown ``backend`` (the message lists the choices).
    neuromorph.UnsupportedFeature
        A layer the backend cannot map (named), raised before any network is built.
    """
    if not callable(getattr(model, "deploy_spec", None)):
        raise TypeError(f"model must be a spiking learner of neuromorph.models.spiking "
                        f"(one with deploy_spec()), got {type(model).__name__}")
    from sklearn.utils.validation import check_is_fitted

    _check_backend(backend)
    if fixed_point is not None:
        if not isinstance(fixed_point, bool):
            raise TypeError(f"fixed_point must be a bool or None, got "
                            f"{type(fixed_point).__name__}")
        if fixed_point != (backend != "neuromorph"):
            raise ValueError(f"fixed_point={fixed_point} does not go with backend "
                             f"{backend!r}: 'neuromorph' runs float64, 'loihi' and 'lava' "
                             f"Loihi fixed point")
    check_is_fitted(model, "classes_")
    options = {k: v for k, v in (("presentation", presentation), ("rest", rest),
                                 ("max_retries", max_retries)) if v is not None}
    if options:
        import inspect
        accepted = inspect.signature(model.deploy_spec).parameters
        bad = [k for k in options if k not in accepted]
        if bad:
            raise ValueError(f"{bad[0]} is an option of learners that present samples for a "
                             f"time (STDPClassifier), not of {type(model).__name__}")
    spec = model.deploy_spec(**options)
    if backend in ("loihi", "lava"):
        spec = spec.fixed_point()
    if backend == "lava":
        spec.check_lava()
        spec = spec.with_rest(spec.rest_steps())
    return Deployment(model, spec, backend)


class Deployment:
    """A learner's inference network on a backend (made by :func:`deploy`).

    Attributes
    ----------
    model : the learner
    backend : str
    spec : the learner's inference spec (``exact``: whether the network reproduces the
        learner's inference step for step; ``notes``: where it does not)
    """

    def __init__(self, model, spec, backend):
        self.model, self.spec, self.backend = model, spec, backend
        self._network = None

    def __repr__(self):
        return f"Deployment({type(self.model).__name__}, backend={self.backend!r})"

    @property
    def network(self):
        """The inference network (a :class:`neuromorph.Network`, no samples wired in)."""
        if self._network is None:
            self._network = self.spec.network()
        return self._network

    def _check_X(self, X):
        X = self.model._validated(X)
        return _checks.unit_interval("X", X)

    def run(self, X):
        """Run ``X`` back to back in one simulation.

        Returns
        -------
        scores : ndarray (n, n_classes)
            The learner's class scores (read off the recorded spikes on the host).
        spikes : dict
            Recorded activity per population.
        """
        X = self._check_X(X)
        if self.backend == "lava":
            scores, spikes, _ = self.spec.run(X, engine="lava")
        else:
            scores, spikes, _ = self.spec.run(X)
        return scores, spikes

    def estimate(self, X, hardware="loihi"):
        """Energy and latency per inference of ``X``'s activity on neuromorphic hardware
        (SANA-FE; :mod:`neuromorph.deploy.energy` says which chip each number describes).

        Parameters
        ----------
        X : array (n, n_features) in [0, 1]
        hardware : {"loihi"}
            SANA-FE's architecture (first-generation Loihi).

        Returns
        -------
        neuromorph.deploy.energy.Estimate
            ``energy_j``, ``latency_s``, ``synaptic_ops``, ``neuron_updates`` (per
            inference), ``cores``, ``table()``.
        """
        from . import energy

        energy._check_hardware(hardware)
        X = self._check_X(X)
        _, _, net = self.spec.run(X)
        spikes, _ = energy.activity(net)
        return energy.estimate(net, spikes, len(X), hardware)

    def to_nir(self, path):
        """Write the inference network as a NIR graph (:func:`neuromorph.backends.nir.to_nir`,
        refractory periods in the nodes' metadata, ``spike_representation="dirac"``:
        the held-current synapses have time constants far below ``dt``) to ``path``.

        Per-neuron thresholds are the nodes' ``v_threshold``; an adaptive threshold
        (CSDP's) is in the nodes' metadata (``theta_plus``, ``tau_theta``, ``v_th``),
        which :func:`~neuromorph.backends.nir.from_nir` reads back and other tools
        ignore. A population with two synaptic time constants that receives both signs
        (R-STDP's outputs) is a ``LIF`` node fed by one ``LI`` node per current (exact;
        the module notes). Returns the ``nir.NIRGraph``. Raises ``UnsupportedFeature``
        naming a layer NIR cannot describe (held input currents)."""
        import nir

        from ..backends.nir import to_nir

        if self.backend != "neuromorph":
            raise ValueError(f"to_nir writes the float network (backend 'neuromorph'); "
                             f"this deployment's backend is {self.backend!r}")
        check = getattr(self.spec, "check_nir", None)
        if check is not None:
            check()
        held = getattr(self.spec, "nir_held_nodes", None)
        nodes, edges = held() if held is not None else ({}, [])  # held input currents:
        graph = to_nir(self.network, refractory="metadata",      # Input -> Affine -> layer
                       spike_representation="dirac", extra_nodes=nodes, extra_edges=edges,
                       adaptation="metadata")
        nir.write(path, graph)
        return graph

    def predict_nir(self, X, path):
        """Predictions of the network read back from the NIR file ``path`` (``nir.read``,
        then :func:`neuromorph.backends.nir.from_nir`), with this deployment's inputs,
        resets and readout."""
        from ..backends.nir import from_nir, read

        X = self._check_X(X)
        graph = read(path)

        values = getattr(self.spec, "nir_held_values", None)
        held = values(X) if values is not None else {}

        def rebuild(net):  # every spike source the graph has an Input node for
            inputs = {p.name: (p.model.indices, p.model.steps * net.dt)
                      for p in net.populations if p.name in graph.nodes
                      and hasattr(p.model, "indices") and hasattr(p.model, "steps")}
            return from_nir(graph, dt=net.dt, inputs=inputs,
                            held_inputs={k: v for k, v in held.items() if k in graph.nodes})

        scores, _, _ = self.spec.run(X, rebuild=rebuild)
        return self.model.classes_[np.argmax(scores, axis=1)]

    def decision_scores(self, X):
        """Class scores, as the learner's ``decision_scores``."""
        return self.run(X)[0]

    def predict(self, X):
        """Predicted labels: arg-max of the class scores."""
        return self.model.classes_[np.argmax(self.decision_scores(X), axis=1)]

    def score(self, X, y):
        """Accuracy of :meth:`predict` on ``(X, y)``."""
        return float(np.mean(self.predict(X) == np.asarray(y)))


def load_learner(path):
    """The spiking learner saved at ``path`` (any of the five; its class is read from the
    checkpoint's format tag, :mod:`neuromorph.models.spiking.checkpoints`)."""
    import json
    import os
    import zipfile

    from ..models.spiking import registry

    try:
        with np.load(os.fspath(path)) as f:
            fmt = json.loads(bytes(f["meta"]).decode()).get("format")
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path}: not a spiking-learner checkpoint ({err})") from err
    for cls in registry().values():
        if cls._checkpoint_format == fmt:
            return cls.load(path)
    known = [cls._checkpoint_format for cls in registry().values()]
    raise ValueError(f"{path}: checkpoint format {fmt!r} is none of {known}")
