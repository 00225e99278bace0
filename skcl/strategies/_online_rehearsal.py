"""What the online-rehearsal strategies (DER, DER++, ER-ACE, MIR, SCR) share."""

from __future__ import annotations

from typing import Any

from skcl.strategies._base import BaseStrategy

__all__ = ["OnlineRehearsalStrategy", "rehearsal_aliases"]


def rehearsal_aliases(plugin: str, *same_name: str,
                      transform: str = "replay_transform") -> dict[str, tuple[str, str]]:
    """The flat parameters of a strategy built on an online-rehearsal plugin.

    ``mem_size``, ``batch_size_mem``, ``mem_update_every`` (the plugin's
    ``update_every``) and ``transform`` (the plugin's ``transform``), plus the
    plugin parameters in ``same_name`` under their own names.

    Examples
    --------
    >>> from skcl.strategies._online_rehearsal import rehearsal_aliases
    >>> rehearsal_aliases("der", "alpha")["mem_update_every"]
    ('der', 'update_every')
    """
    return {"mem_size": (plugin, "mem_size"), "mem_update_every": (plugin, "update_every"),
            "batch_size_mem": (plugin, "batch_size_mem"), transform: (plugin, "transform"),
            **{name: (plugin, name) for name in same_name}}


class OnlineRehearsalStrategy(BaseStrategy):
    """Base of the strategies built on a :class:`~skcl.plugins.OnlineRehearsalPlugin`.

    Stores the three memory parameters every such strategy has (``mem_size``,
    ``batch_size_mem``, ``mem_update_every``); a subclass declares its plugin in
    ``_builtin_plugins``, its flat parameters with :func:`rehearsal_aliases`, and
    keeps an explicit ``__init__`` signature (scikit-learn reads its parameters there).
    """

    def __init__(self, module=None, *, mem_size: int, batch_size_mem: int | None,
                 mem_update_every: int, **kwargs):
        super().__init__(module, **kwargs)
        self.mem_size = mem_size
        self.batch_size_mem = batch_size_mem
        self.mem_update_every = mem_update_every

    @classmethod
    def _unit_test_params(cls) -> dict[str, Any]:
        return {**super()._unit_test_params(), "mem_size": 20}
