"""Taxonomy metadata carried by every family class (spec §1 and §2.3).

``Family`` holds the survey's family tags (S1 §1.4); ``Checklist`` one row of the
per-algorithm backprop-problems checklist (spec §2.3). Each cell is ``"Y"`` (resolves),
``"N"`` (does not), ``"P"`` (partly / depends on variant) or ``"—"`` (not applicable).
"""
from dataclasses import asdict, dataclass


class Family:
    """Survey family tags (S1 Fig. 1)."""

    BASELINE = "BP"  # backprop: the yardstick, not a family of the taxonomy
    IMP = "Imp"
    EG = "EG"
    NSEL = "NSEL"
    SEL_DR = "SEL:DR"
    SEL_EB = "SEL:EB"
    SEL_FO = "SEL:FO"

    ALL = (BASELINE, IMP, EG, NSEL, SEL_DR, SEL_EB, SEL_FO)


CHECKLIST_COLUMNS = ("P1", "P2", "P3", "P4", "LP", "FL", "UL", "P6", "AA", "Time", "Ctrl")
_CELLS = {"Y", "N", "P", "—"}


@dataclass(frozen=True)
class Checklist:
    """One row of spec §2.3: which of backprop's problems an algorithm resolves.

    P1 global feedback pathway, P2 weight transport, P3 short-term plasticity,
    P4 constraint & sensitivity, LP local plasticity, FL forward locking, UL update
    locking, P6 inference–learning dependency; AA architecture-agnostic, Time online
    sequences, Ctrl control/RL. ``source`` names the spec row it was copied from.
    """

    source: str
    P1: str
    P2: str
    P3: str
    P4: str
    LP: str
    FL: str
    UL: str
    P6: str
    AA: str
    Time: str
    Ctrl: str

    def __post_init__(self):
        for col in CHECKLIST_COLUMNS:
            if getattr(self, col) not in _CELLS:
                raise ValueError(f"checklist cell {col} must be one of {sorted(_CELLS)}")

    def as_dict(self):
        return asdict(self)


def _row(source, cells):
    return Checklist(source, *cells.split())


# Rows of spec §2.3, in column order P1 P2 P3 P4 LP FL UL P6 AA Time Ctrl.
CHECKLISTS = {
    "backprop": _row("Backprop (reference)", "N N N N N N N N Y N Y"),
    "hebbian": _row("STDP / Hebbian 2F (T1)", "Y Y N N Y — Y Y Y Y N"),
    "hebbian_3f": _row("R-STDP / rate 3F (T1 Hebbian 3F)", "Y Y N N Y — Y Y Y N Y"),
    "pc": _row("Spiking PC, rate PC (T1 PC/NGC)", "Y Y Y N Y Y Y N N Y Y"),
    "ep": _row("EqSpike, rate EqProp (T1 EProp)", "Y N Y N Y Y Y N N N N"),
    "rff": _row("CSDP, RFF, PFF (T1 RFF/PFF)", "Y Y Y N Y Y Y Y N N N"),
    "fa": _row("FA (RFA)", "N Y N N N N N N P N P"),
    "dfa": _row("DFA", "P Y N N P N P N P N P"),
    "ifa": _row("IFA", "P Y N N P N P N P N N"),
    "sign_symmetry": _row("Sign symmetry", "N P N N N N N N Y N P"),
    "kp": _row("KP / weight mirrors", "N Y N N N N N N Y N P"),
    "perturbation": _row("Hill-climbing / WP / NP / REINFORCE", "Y Y N Y Y N P P Y P Y"),
    "learned_feedback": _row("Lansdell learned feedback", "N Y N N P N N N Y N N"),
    "slu": _row("SLU (T1)", "Y N N N Y Y Y Y Y Y N"),
    "local_losses": _row("Local signalers / local losses", "Y Y N P Y N Y P Y N N"),
    "tp": _row("TP / DTP / DTP-σ", "P Y N P Y N N N P N N"),
    "lra": _row("LRA / rec-LRA", "Y Y P Y Y N P N P P N"),
    "chl": _row("CHL / GeneRec", "Y N Y P Y P N N N N N"),
    "recirculation": _row("Recirculation", "Y Y N Y Y N Y P P N N"),
    "cd_wake_sleep": _row("CD / wake-sleep", "Y P N P Y — P N N P P"),
    "ff": _row("FF (feed-forward form)", "Y Y N Y Y N Y Y Y N N"),
    # spec §2.3 has no HSIC row: this project's assessment from §4.10 (layer-local objective,
    # no feedback synapses; kernels over a batch of stored activities, differentiable layers)
    "hsic": _row("HSIC bottleneck (not in spec §2.3: assessed from §4.10)",
                 "Y Y N N P N Y N P N N"),
    "pepita": _row("SigProp / EFP / PEPITA", "Y Y N P Y N P Y Y N N"),
    # temporal learners (spec §4.24 has no §2.3 row: [IMPL] assessment). Both carry the
    # readout error to the recurrent layer through W_outᵀ (P1 P, P2 N), need φ' (P4 N),
    # learn online without unrolling (Time Y); RTRL's sensitivity tensor couples every
    # synapse with every unit (LP N), UORO's trace θ̃ is per synapse up to two global
    # scales ρ₀, ρ₁ and a broadcast scalar (LP P)
    "rtrl": _row("RTRL [IMPL]", "P N N N N N P P Y Y Y"),
    "uoro": _row("UORO [IMPL]", "P N N N P N P P Y Y Y"),
    # Not in spec §2.3 (e-prop is named only in §4.24): this project's assessment. e-prop:
    # the error reaches every neuron in one hop (P1); symmetric feedback transports W_out^T,
    # random feedback does not (P2 "P"); spiking units via a pseudo-derivative (P4 "P");
    # eligibility traces + a broadcast learning signal are local and online (LP, UL, P6,
    # Time); reward-based e-prop exists (Ctrl "P"). Surrogate-gradient BPTT: backprop
    # through time on the same network (only P4 partly: spikes via the surrogate).
    "eprop": _row("e-prop (Bellec et al. 2020) [IMPL]", "Y P N P Y Y Y Y P Y P"),
    "surrogate_bptt": _row("Surrogate-gradient BPTT [IMPL]", "N N N P N N N N Y N Y"),
}
