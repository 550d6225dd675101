"""The ensemble shorthand `ens:a,b,c`: a model name that stands for the equal-weight mean of
its members' out-of-sample P(up) (forecast/evaluate/ensemble.py builds it).

Accepted wherever a model is named (`--model`, the API's `model=`, a spec's [[models]]
entry). Members are registry names or `module:Class` / `file.py:Class` references, at least
two, each once, no ensemble inside an ensemble. Parameters reach the members by name:
`{"gbm": {"max_iter": 50}}` gives one member its own, and a plain key (`seed`, `epochs`)
goes to every member that takes it (an error when none does).
"""

from __future__ import annotations

from collections.abc import Mapping

from forecast.errors import ConfigError
from forecast.models.registry import ENSEMBLE_PREFIX as PREFIX
from forecast.models.registry import default_params, is_ensemble, resolve_model

__all__ = ["PREFIX", "ensemble_label", "ensemble_members", "ensemble_params", "is_ensemble"]


def ensemble_members(name: str) -> list[str]:
    """The members of `ens:a,b,c`, each resolved now; ConfigError (one line) for fewer than
    two, an empty item, a repeat, a nested ensemble or a model that does not resolve."""
    text = name.strip()[len(PREFIX):]
    members = [m.strip() for m in text.split(",")]
    if not all(members) and text.strip():
        raise ConfigError(f"ensemble {name!r} has an empty member")
    members = [m for m in members if m]
    if len(members) < 2:
        raise ConfigError(f"ensemble {name!r} needs at least 2 members (ens:a,b,...), got {len(members)}")
    for member in members:
        if is_ensemble(member):
            raise ConfigError(f"ensemble {name!r}: a member may not be an ensemble ({member!r})")
        if members.count(member) > 1:
            raise ConfigError(f"ensemble {name!r} lists {member!r} twice")
        try:
            resolve_model(member)
        except ConfigError as exc:
            raise ConfigError(f"ensemble {name!r}: {exc}") from None
    return members


def ensemble_label(name: str) -> str:
    """The canonical name, `ens:a,b,c` without spaces (the run's model name)."""
    return PREFIX + ",".join(ensemble_members(name))


def ensemble_params(name: str, params: Mapping | None) -> dict[str, dict]:
    """Member -> its parameters, from `params` given to the ensemble: a member's name maps
    to that member's own table; any other key goes to every member that takes it."""
    members = ensemble_members(name)
    out: dict[str, dict] = {m: {} for m in members}
    shared = {}
    for key, value in (params or {}).items():
        if key in out:
            if not isinstance(value, Mapping):
                raise ConfigError(f"ensemble {name!r}: parameters of member {key!r} must be a table, "
                                  f"got {value!r}")
            takes = default_params(key)
            unknown = sorted(set(value) - set(takes))
            if unknown:
                raise ConfigError(f"ensemble {name!r}: member {key!r} has no parameter(s) "
                                  f"{', '.join(unknown)} (it has: {', '.join(takes) or 'none'})")
            out[key].update(value)
        else:
            shared[key] = value
    for key, value in shared.items():
        takers = [m for m in members if key in default_params(m)]
        if not takers:
            raise ConfigError(f"ensemble {name!r}: no member takes parameter {key!r}")
        for member in takers:
            out[member].setdefault(key, value)
    return out
