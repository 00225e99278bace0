"""Plugins as nested parameters."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from skcl.plugins._base import HOOKS, StrategyPlugin
from skcl.strategies._core.avalanche_names import suggest_name

__all__ = ["PluginComposition"]


class PluginComposition:
    """Part of :class:`~skcl.strategies.BaseStrategy`.

    Templates, names, ``plugins__*`` in get/set_params, the live
    plugins and the index of the hooks they override."""

    def _default_plugins(self) -> list[tuple[str, StrategyPlugin]]:
        """The named strategy's own plugins, built from its flat parameters."""
        kwargs: dict[str, dict] = {name: {} for name in self._builtin_plugins}
        for flat, (name, param) in self._plugin_aliases.items():
            kwargs[name][param] = getattr(self, flat)
        return [(name, cls(**kwargs[name])) for name, cls in self._builtin_plugins.items()]

    def _user_plugins(self) -> list[tuple[str, StrategyPlugin]]:
        named, seen = [], set(self._builtin_plugins)
        for item in self.plugins or []:
            if isinstance(item, tuple) and len(item) == 2:
                name, plugin = item
            else:
                plugin = item
                base = type(plugin).__name__.lower()
                if base.endswith("plugin") and base != "plugin":
                    base = base[: -len("plugin")]
                name, k = base, 2
                while name in seen:
                    name, k = f"{base}_{k}", k + 1
            if not isinstance(plugin, StrategyPlugin):
                raise TypeError(
                    f"plugins must hold StrategyPlugin instances or (name, plugin) pairs; "
                    f"got {item!r}."
                )
            if not isinstance(name, str) or "__" in name or not name:
                raise ValueError(f"Plugin name {name!r} must be a non-empty string without '__'.")
            if name in seen:
                raise ValueError(f"Duplicate plugin name {name!r}.")
            seen.add(name)
            named.append((name, plugin))
        return named

    def validate_parameters(self) -> None:
        """Check every parameter (the strategy's and each plugin's) against its declaration.

        Runs at the top of ``partial_fit``/``fit``, before anything changes. A
        built-in plugin's parameter is reported under the strategy's flat name
        (``ewc_lambda``), a user plugin's as ``plugins__<name>__<param>``.

        Raises
        ------
        skcl.utils.InvalidParameterError
            A ``ValueError`` (and ``TypeError``) naming the parameter, what it
            accepts and the value.
        """
        from skcl.utils import validate_params

        owner = type(self).__name__
        constraints: dict[str, Any] = {}
        for klass in reversed(type(self).__mro__):
            constraints.update(vars(klass).get("_parameter_constraints", {}))
        validate_params(constraints, self.get_params(deep=False), owner)
        alias_of = {v: k for k, v in self._plugin_aliases.items()}
        for name, plugin in self._plugin_templates():
            if name in self._builtin_plugins:
                def display(param, name=name):
                    return alias_of.get((name, param), f"{name}.{param}")
            else:
                def display(param, name=name):
                    return f"plugins__{name}__{param}"
            plugin.validate_parameters(display=display, owner=owner)

    def _plugin_templates(self) -> list[tuple[str, StrategyPlugin]]:
        return self._default_plugins() + self._user_plugins()

    def _get_param_names(self):
        # skorch's private bookkeeping (`_params_to_validate`) is not a parameter: clone
        # rebuilds it from the prefixed keyword arguments anyway.
        return [k for k in super()._get_param_names() if not k.startswith("_")]

    def get_params(self, deep: bool = True, **kwargs) -> dict[str, Any]:
        params = super().get_params(deep=deep, **kwargs)
        if deep:
            try:
                templates = self._plugin_templates()
            except (TypeError, ValueError):  # malformed plugins are reported at fit time
                templates = []
            for name, plugin in templates:
                params[f"plugins__{name}"] = plugin
                for key, value in plugin.get_params(deep=True).items():
                    params[f"plugins__{name}__{key}"] = value
        return params

    def set_params(self, **kwargs):
        """Set parameters; ``plugins__<name>__<param>`` reaches a plugin.

        On a fitted strategy the live plugin gets the new value too, and keeps
        its learned state.
        """
        valid = set(self.get_params(deep=True))
        for key in kwargs:
            top = key.split("__", 1)[0]
            known = key in valid or top in valid or any(
                key.startswith(p + "__") for p in self.prefixes_ if p != "plugins")
            if key.startswith("plugins__"):
                known = key in valid
            if not known:
                match = suggest_name(key, valid)
                hint = f" Did you mean {match}?" if match else ""
                raise ValueError(
                    f"Invalid parameter '{key}' for estimator {type(self).__name__}.{hint}"
                )
        plugin_keys = {k: v for k, v in kwargs.items() if k.startswith("plugins__")}
        other = {k: v for k, v in kwargs.items() if k not in plugin_keys}
        alias_of = {v: k for k, v in self._plugin_aliases.items()}
        for key, value in plugin_keys.items():
            name, _, param = key[len("plugins__"):].partition("__")
            if name in self._builtin_plugins:
                if (name, param) not in alias_of:
                    raise ValueError(
                        f"'{key}' belongs to a built-in plugin of {type(self).__name__}; set "
                        f"it through the strategy's own parameters."
                    )
                other[alias_of[(name, param)]] = value
            elif param == "":
                self.plugins = [
                    (n, value if n == name else p) for n, p in self._user_plugins()
                ]
            else:
                template = dict(self._user_plugins())[name]
                template.set_params(**{param: value})
                self._set_live_plugin_param(name, param, value)
        plugins_replaced = "plugins" in other or any(
            k.startswith("plugins__") and k.count("__") == 1 for k in plugin_keys)
        if "plugins" in other:
            # set here: skorch would take it for a module prefix and try to re-initialize
            self.plugins = other.pop("plugins")
        if "callbacks" in other:
            # skorch re-initializes callbacks inside set_params, so a bad value raised here;
            # scikit-learn's contract validates at fit time: store it, re-initialize if fitted.
            self.callbacks = other.pop("callbacks")
            if self.initialized_:
                self.initialize_callbacks()
        super().set_params(**other)
        for flat in other:
            if flat in self._plugin_aliases:
                name, param = self._plugin_aliases[flat]
                self._set_live_plugin_param(name, param, other[flat])
        if plugins_replaced and self.initialized_:
            self.initialize_plugins()
        return self

    def _set_live_plugin_param(self, name: str, param: str, value) -> None:
        live = dict(getattr(self, "plugins_", []))
        if name in live:
            live[name].set_params(**{param: value})

    @property
    def named_plugins_(self) -> dict[str, StrategyPlugin]:
        """The live plugins by name."""
        return dict(self.plugins_)

    def initialize_plugins(self):
        """Clone the plugin templates into ``plugins_``, each with its own seeded RNG."""
        templates = self._plugin_templates()
        children = np.random.SeedSequence(self.seed_).spawn(len(templates))
        self.plugins_ = []
        for (name, template), seed in zip(templates, children):
            plugin = clone(template)
            plugin._reset_rng(seed)
            self.plugins_.append((name, plugin))
        self._index_hooks()
        return self

    def __setstate__(self, state):
        super().__setstate__(state)
        if "plugins_" in vars(self):  # the hook index must point at the unpickled plugins
            self._index_hooks()

    def _index_hooks(self) -> None:
        # Only plugins that override a hook are called for it: Naive pays nothing.
        self.plugin_hooks_ = {
            hook: [p for _, p in self.plugins_ if p._overrides(hook)] for hook in HOOKS
        }

    def _call(self, hook: str, *args) -> None:
        for plugin in self.plugin_hooks_[hook]:
            getattr(plugin, hook)(self, *args)
