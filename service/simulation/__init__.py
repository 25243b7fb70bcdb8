"""The simulator: scenarios (TOML) played on the simulated legal clock through the real dossier services.

``motcua simulate`` (:mod:`service.simulation.cli`) loads a :class:`~service.simulation.scenario.Scenario`,
runs it with :func:`~service.simulation.shards.simulate` and prints
:func:`~service.simulation.summary.summarize`'s figures. The names below are imported on first use, so that
``motcua --help`` does not load the services.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "RunResult": "service.simulation.engine",
    "simulate": "service.simulation.shards",
    "tuned_sqlite": "service.simulation.engine",
    "Scenario": "service.simulation.scenario",
    "ScenarioError": "service.simulation.scenario",
    "load": "service.simulation.scenario",
    "loads": "service.simulation.scenario",
    "summarize": "service.simulation.summary",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'service.simulation' has no attribute {name!r}")
