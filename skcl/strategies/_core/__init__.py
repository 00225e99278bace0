"""The concerns :class:`~skcl.strategies.BaseStrategy` is assembled from, one per module.

``BaseStrategy`` holds the verbs (``partial_fit``, ``fit``, ``predict``, ...);
each mixin here holds one concern it relies on:

- :mod:`.composition`: plugins as nested parameters and their hook index;
- :mod:`.labels`: class order and label encoding;
- :mod:`.inputs`: validation of experiences, inputs, labels and task labels;
- :mod:`.rollback`: what a failed call restores;
- :mod:`.persistence`: the continual-learning state in skorch's checkpoints;
- :mod:`.model_growth`: heads that grow with classes and tasks, the optimizer rebuilt;
- :mod:`.conventions`: scikit-learn's conventions (repr, tags, parameter checks);
- :mod:`.skorch_loop`: the skorch seams of the training loop (skorch privates live only here).
"""

from skcl.strategies._core.composition import PluginComposition
from skcl.strategies._core.conventions import SklearnConventions
from skcl.strategies._core.inputs import InputValidation
from skcl.strategies._core.labels import LabelOrder
from skcl.strategies._core.model_growth import ModelGrowth
from skcl.strategies._core.persistence import Persistence
from skcl.strategies._core.rollback import Rollback
from skcl.strategies._core.skorch_loop import SkorchLoop

__all__ = [
    "InputValidation", "LabelOrder", "ModelGrowth", "Persistence", "PluginComposition", "Rollback",
    "SklearnConventions", "SkorchLoop",
]
