"""Rate-coded reference implementations of the credit-assignment families.

Every family is a scikit-learn classifier built on the shared pieces of this package
(:mod:`.layers`, :mod:`.activations`, :mod:`.losses`, :mod:`.optimizers`,
:mod:`.batching`, :mod:`.base`) and carries its survey family tag and its row of the
backprop-problems checklist (:mod:`.metadata`). :func:`registry` lists them all.
"""
from .alignment import DirectFeedbackAlignment, FeedbackAlignment, KolenPollack, SignSymmetry
from .alignment import DirectRandomTargetProjection, IndirectFeedbackAlignment, WeightMirrors
from .backprop import Backprop
from .base import RateClassifier  # noqa: F401 (importable, but not a family: not in __all__)
from .contrastive_hebbian import ContrastiveHebbian
from .equilibrium_propagation import EquilibriumPropagation
from .forward_forward import ForwardForward
from .hebbian import BCM, CompetitiveKWTA, Oja, SoftBoundHebbian
from .hsic import HSICBottleneck
from .lra import LocalRepresentationAlignment
from .predictive_ff import PredictiveForwardForward
from .recurrent_ff import RecurrentForwardForward
from .synthetic_gradients import SyntheticGradients
from .predictive_coding import PredictiveCoding
from .target_propagation import DifferenceTargetPropagation, TargetPropagation
from .learned_feedback import LearnedFeedback
from .local_losses import LocalLosses
from .pepita import Pepita
from .perturbation import NodePerturbation, WeightPerturbation
from .reinforce import Reinforce
from .stochastic_search import HillClimbing, SimulatedAnnealing
from .three_factor import RewardModulatedHebbian
from .temporal import BPTT, RTRL, UORO
from .recirculation import Recirculation
from .generec import GeneRec
from .rbm import RBM
from .wake_sleep import WakeSleep
from .sigprop import SigProp
from .metadata import CHECKLIST_COLUMNS, Checklist, Family

_FAMILIES = (
    Backprop,
    SoftBoundHebbian,
    Oja,
    BCM,
    CompetitiveKWTA,
    FeedbackAlignment,
    DirectFeedbackAlignment,
    SignSymmetry,
    KolenPollack,
    NodePerturbation,
    WeightPerturbation,
    Reinforce,
    LearnedFeedback,
    SyntheticGradients,
    LocalLosses,
    TargetPropagation,
    DifferenceTargetPropagation,
    LocalRepresentationAlignment,
    PredictiveCoding,
    ContrastiveHebbian,
    EquilibriumPropagation,
    ForwardForward,
    RecurrentForwardForward,
    PredictiveForwardForward,
    Pepita,
    IndirectFeedbackAlignment,
    DirectRandomTargetProjection,
    WeightMirrors,
    RewardModulatedHebbian,
    HillClimbing,
    SimulatedAnnealing,
    HSICBottleneck,
    BPTT,
    RTRL,
    UORO,
    Recirculation,
    GeneRec,
    RBM,
    WakeSleep,
    SigProp,
)


def registry():
    """All family classes, in survey order (baseline, Imp, EG, NSEL, SEL:DR, SEL:EB, SEL:FO).

    Returns
    -------
    dict
        ``{class name: class}``; each class exposes ``family``, ``checklist``,
        ``algorithm``, ``spec_section`` and :meth:`~RateClassifier.describe`.
    """
    order = {tag: i for i, tag in enumerate(Family.ALL)}
    ranked = sorted(_FAMILIES, key=lambda c: order[c.family])
    return {cls.__name__: cls for cls in ranked}


# the families and their metadata; the abstract base (``RateClassifier``, for writing a new
# family) stays in :mod:`.base`, so ``import *`` and the docs list only trainable families
__all__ = [c.__name__ for c in _FAMILIES] + [
    "registry", "Family", "Checklist", "CHECKLIST_COLUMNS",
]
