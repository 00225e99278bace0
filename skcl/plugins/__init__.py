"""Plugins: objects with hooks into a strategy's training loop.

Only plugins and the hook contract are public here; the pure functions a plugin is built
from (``ace_mask``, ``bic_distillation``, ``cwr_consolidate``, ``supcon_loss``, ...) stay
importable from the plugin's own module (``skcl.plugins._er_ace``, ...).
"""

from skcl.plugins._agem import AGEMPlugin
from skcl.plugins._base import HOOKS, ClosedFormPenalty, StrategyPlugin
from skcl.plugins._bic import BiCPlugin
from skcl.plugins._cope import CoPEPlugin
from skcl.plugins._cumulative import CumulativePlugin
from skcl.plugins._cwr_star import CWRStarPlugin
from skcl.plugins._der import DERPlugin, DERPlusPlusPlugin, OnlineRehearsalPlugin
from skcl.plugins._early_stopping import EarlyStoppingPlugin
from skcl.plugins._er_ace import ERACEPlugin
from skcl.plugins._ewc import EWCPlugin
from skcl.plugins._gdumb import GDumbPlugin
from skcl.plugins._gem import GEMPlugin
from skcl.plugins._gss_greedy import GSS_greedyPlugin
from skcl.plugins._icarl import ICaRLPlugin
from skcl.plugins._icarl_loss import ICaRLLossPlugin
from skcl.plugins._latent_replay import LatentReplayPlugin
from skcl.plugins._lfl import LFLPlugin
from skcl.plugins._lr_scheduler import LRSchedulerPlugin
from skcl.plugins._lwf import LwFPlugin
from skcl.plugins._mir import MIRPlugin
from skcl.plugins._protocol import PROTOCOL_ATTRIBUTES, StrategyProtocol
from skcl.plugins._replay import ReplayPlugin
from skcl.plugins._scr import FeatureNoise, SCRPlugin
from skcl.plugins._synaptic_intelligence import SynapticIntelligencePlugin
from skcl.plugins._transform import TransformPlugin

__all__ = [
    "AGEMPlugin",
    "BiCPlugin",
    "ClosedFormPenalty",
    "CoPEPlugin",
    "CumulativePlugin",
    "CWRStarPlugin",
    "DERPlugin",
    "DERPlusPlusPlugin",
    "EarlyStoppingPlugin",
    "ERACEPlugin",
    "EWCPlugin",
    "FeatureNoise",
    "GDumbPlugin",
    "GEMPlugin",
    "GSS_greedyPlugin",
    "HOOKS",
    "ICaRLLossPlugin",
    "ICaRLPlugin",
    "LatentReplayPlugin",
    "LFLPlugin",
    "LRSchedulerPlugin",
    "LwFPlugin",
    "MIRPlugin",
    "OnlineRehearsalPlugin",
    "ReplayPlugin",
    "SCRPlugin",
    "StrategyPlugin",
    "StrategyProtocol",
    "PROTOCOL_ATTRIBUTES",
    "SynapticIntelligencePlugin",
    "TransformPlugin",
]
