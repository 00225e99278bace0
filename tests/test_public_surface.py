"""Issue 10: the public surface lists what users build with, not internals."""

import inspect

import skcl.plugins
import skcl.strategies
from skcl.plugins import StrategyPlugin
from skcl.strategies import BaseStrategy

#: Public names of skcl.plugins that are not plugins: the hook contract (with the closed-form
#: penalty a hook may return) and SCR's default view.
PLUGINS_NON_PLUGIN = {"HOOKS", "StrategyProtocol", "PROTOCOL_ATTRIBUTES", "FeatureNoise",
                      "ClosedFormPenalty"}
#: Public names of skcl.strategies that are not strategies: the Accelerate mixin and its table.
STRATEGIES_NON_STRATEGY = {"AccelerateMixin", "DATA_PARALLEL_COMPATIBLE"}


def test_skcl_plugins_exports_plugins_and_the_hook_contract_only():
    others = {n for n in skcl.plugins.__all__
              if not (inspect.isclass(getattr(skcl.plugins, n))
                      and issubclass(getattr(skcl.plugins, n), StrategyPlugin))}
    assert others == PLUGINS_NON_PLUGIN
    assert not any(inspect.isfunction(getattr(skcl.plugins, n)) for n in skcl.plugins.__all__)


def test_plugin_helpers_stay_importable_from_their_modules():
    from skcl.plugins._bic import bic_distillation
    from skcl.plugins._cwr_star import cwr_consolidate, freeze_modules
    from skcl.plugins._er_ace import ace_mask
    from skcl.plugins._gdumb import greedy_class_balanced
    from skcl.plugins._mir import virtual_sgd_params
    from skcl.plugins._scr import supcon_loss

    helpers = (bic_distillation, cwr_consolidate, freeze_modules, ace_mask,
               greedy_class_balanced, virtual_sgd_params, supcon_loss)
    assert all(callable(h) for h in helpers)
    assert not any(hasattr(skcl.plugins, h.__name__) for h in helpers)


def test_skcl_strategies_exports_strategies_only():
    others = {n for n in skcl.strategies.__all__
              if not (inspect.isclass(getattr(skcl.strategies, n))
                      and issubclass(getattr(skcl.strategies, n), BaseStrategy))}
    assert others == STRATEGIES_NON_STRATEGY
    for name in ("BatchIterator", "TrainData", "make_batch", "ICaRLPlugin", "CumulativePlugin",
                 "LatentReplayPlugin"):
        assert not hasattr(skcl.strategies, name), name
