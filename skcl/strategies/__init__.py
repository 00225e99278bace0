"""Continual learning strategies: `BaseStrategy` and one module per named strategy."""

from skcl.plugins._cumulative import CumulativePlugin  # moved to skcl.plugins; kept here
from skcl.plugins._icarl import ICaRLPlugin  # moved to skcl.plugins; kept here
from skcl.plugins._latent_replay import LatentReplayPlugin  # moved to skcl.plugins; kept here
from skcl.strategies._accelerate import DATA_PARALLEL_COMPATIBLE, AccelerateMixin
from skcl.strategies._agem import AGEM
from skcl.strategies._ar1 import AR1
from skcl.strategies._base import BaseStrategy
from skcl.strategies._bic import BiC
from skcl.strategies._cope import CoPE
from skcl.strategies._cumulative import Cumulative
from skcl.strategies._cwr_star import CWRStar
from skcl.strategies._der import DER, DERPlusPlus
from skcl.strategies._er_ace import ERACE
from skcl.strategies._ewc import EWC
from skcl.strategies._gdumb import GDumb
from skcl.strategies._gem import GEM
from skcl.strategies._gss_greedy import GSS_greedy
from skcl.strategies._icarl import ICaRL
from skcl.strategies._joint import JointTraining
from skcl.strategies._lfl import LFL
from skcl.strategies._lwf import LwF
from skcl.strategies._mir import MIR
from skcl.strategies._naive import Naive
from skcl.strategies._pnn import PNNStrategy
from skcl.strategies._replay import Replay
from skcl.strategies._scr import SCR
from skcl.strategies._streaming_lda import StreamingLDA
from skcl.strategies._synaptic_intelligence import SynapticIntelligence
from skcl.utils._data import BatchIterator, TrainData, make_batch

__all__ = [
    "AccelerateMixin",
    "DATA_PARALLEL_COMPATIBLE",
    "AGEM",
    "AR1",
    "BaseStrategy",
    "BiC",
    "BatchIterator",
    "CoPE",
    "Cumulative",
    "CumulativePlugin",
    "CWRStar",
    "DER",
    "DERPlusPlus",
    "ERACE",
    "EWC",
    "GDumb",
    "GEM",
    "GSS_greedy",
    "ICaRL",
    "ICaRLPlugin",
    "JointTraining",
    "LatentReplayPlugin",
    "LFL",
    "LwF",
    "make_batch",
    "MIR",
    "Naive",
    "PNNStrategy",
    "Replay",
    "SCR",
    "StreamingLDA",
    "SynapticIntelligence",
    "TrainData",
]
