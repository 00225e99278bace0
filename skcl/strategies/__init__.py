"""Continual learning strategies: `BaseStrategy` and one module per named strategy.

Plugins are in :mod:`skcl.plugins`; the minibatch format (``TrainData``, ``BatchIterator``,
``make_batch``) in :mod:`skcl.utils`.
"""

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

__all__ = [
    "AccelerateMixin",
    "DATA_PARALLEL_COMPATIBLE",
    "AGEM",
    "AR1",
    "BaseStrategy",
    "BiC",
    "CoPE",
    "Cumulative",
    "CWRStar",
    "DER",
    "DERPlusPlus",
    "ERACE",
    "EWC",
    "GDumb",
    "GEM",
    "GSS_greedy",
    "ICaRL",
    "JointTraining",
    "LFL",
    "LwF",
    "MIR",
    "Naive",
    "PNNStrategy",
    "Replay",
    "SCR",
    "StreamingLDA",
    "SynapticIntelligence",
]
