"""What the preflight lessons read from Heroku: formation, config-var NAMES, and, only
when the connection budget asks, preboot.

Read-only. `GET /apps/{app}/config-vars` answers with the values; they never leave this
module: only the names come out, and the few values the pipeline named as counts
(`WEB_CONCURRENCY`), and those only as numbers (a value that is not one is dropped,
never echoed). Preboot is read apart (`read_preboot`): only the connection budget uses
it, and only when counting every web dyno twice would not fit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from shipper.core.estate import Dynos, HerokuApp
from shipper.errors import MalformedAnswer, PlatformNotFound
from shipper.heroku.api import HerokuApi


def _numbers(config: Mapping[str, Any], wanted: Collection[str]) -> dict[str, int]:
    out = {}
    for name in wanted:
        raw = config.get(name)
        if isinstance(raw, str) and raw.strip().isdigit():
            out[name] = int(raw.strip())
    return out


def read_app(api: HerokuApi, app: str, numbers: Collection[str] = ()) -> HerokuApp:
    """One app's formation and config-var names (and asked-for counts); preboot unread."""
    formation = api.get(f"/apps/{app}/formation", f"read the formation of {app}")
    if not isinstance(formation, list):
        raise MalformedAnswer(f"Heroku's formation of {app} is not a list; check the API URL")
    dynos = tuple(
        Dynos(
            app,
            str(f.get("type") or ""),
            int(f.get("quantity") or 0),
            str((f.get("dyno_size") or {}).get("name") or f.get("size") or "unknown"),
        )
        for f in formation
        if isinstance(f, dict)
    )
    config = api.get(f"/apps/{app}/config-vars", f"read the config-var names of {app}")
    if not isinstance(config, dict):
        raise MalformedAnswer(f"Heroku's config vars of {app} are not a map; check the API URL")
    names = frozenset(str(k) for k in config)
    counts = _numbers(config, numbers)
    del config  # the values stop here
    return HerokuApp(app, dynos, names, None, counts)


def read_preboot(api: HerokuApi, app: str) -> bool:
    """Whether `app` has the preboot feature on; an app that does not know it has it off."""
    try:
        feature = api.get(f"/apps/{app}/features/preboot", f"read whether {app} has preboot")
    except PlatformNotFound:
        return False
    return bool(isinstance(feature, dict) and feature.get("enabled"))
