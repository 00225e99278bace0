"""Plugins: objects with hooks into a strategy's training loop."""

from skcl.plugins._agem import AGEMPlugin
from skcl.plugins._base import HOOKS, StrategyPlugin
from skcl.plugins._bic import BiCPlugin, bic_distillation
from skcl.plugins._cope import CoPEPlugin
from skcl.plugins._cumulative import CumulativePlugin
from skcl.plugins._cwr_star import CWRStarPlugin, cwr_consolidate, freeze_modules
from skcl.plugins._der import DERPlugin, DERPlusPlusPlugin, OnlineRehearsalPlugin
from skcl.plugins._early_stopping import EarlyStoppingPlugin
from skcl.plugins._er_ace import ERACEPlugin, ace_mask
from skcl.plugins._ewc import EWCPlugin
from skcl.plugins._gdumb import GDumbPlugin, greedy_class_balanced
from skcl.plugins._gem import GEMPlugin
from skcl.plugins._gss_greedy import GSS_greedyPlugin
from skcl.plugins._icarl import ICaRLPlugin
from skcl.plugins._icarl_loss import ICaRLLossPlugin
from skcl.plugins._latent_replay import LatentReplayPlugin
from skcl.plugins._lfl import LFLPlugin
from skcl.plugins._lr_scheduler import LRSchedulerPlugin
from skcl.plugins._lwf import LwFPlugin
from skcl.plugins._mir import MIRPlugin, virtual_sgd_params
from skcl.plugins._protocol import PROTOCOL_ATTRIBUTES, StrategyProtocol
from skcl.plugins._replay import ReplayPlugin
from skcl.plugins._scr import FeatureNoise, SCRPlugin, supcon_loss
from skcl.plugins._synaptic_intelligence import SynapticIntelligencePlugin
from skcl.plugins._transform import TransformPlugin

__all__ = [
    "ace_mask",
    "AGEMPlugin",
    "BiCPlugin",
    "bic_distillation",
    "CoPEPlugin",
    "CumulativePlugin",
    "cwr_consolidate",
    "CWRStarPlugin",
    "DERPlugin",
    "DERPlusPlusPlugin",
    "EarlyStoppingPlugin",
    "ERACEPlugin",
    "EWCPlugin",
    "FeatureNoise",
    "freeze_modules",
    "GDumbPlugin",
    "GEMPlugin",
    "greedy_class_balanced",
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
    "supcon_loss",
    "SynapticIntelligencePlugin",
    "virtual_sgd_params",
    "TransformPlugin",
]
