"""Pick the client class for a panel's API dialect."""

from __future__ import annotations

from bot.panels.base import PanelClient, PanelConfig
from bot.panels.smmbros import SmmBrosClient
from bot.panels.smmsend import SmmSendClient
from bot.panels.v2 import V2Client

DIALECTS: tuple[str, ...] = ("v2", "smmbros", "smmsend", "smmtechs")


def make_client(config: PanelConfig) -> PanelClient:
    """Build the client that speaks ``config.dialect``; ValueError for an unknown one."""
    dialect = config.dialect.strip().lower()
    if dialect == "v2":
        return V2Client(config)
    if dialect == "smmbros":
        return SmmBrosClient(config)
    if dialect == "smmsend":
        return SmmSendClient(config)
    if dialect == "smmtechs":
        # Imported here so a v2-only deployment never loads the other API's module.
        from bot.panels.smmtechs import SmmTechsClient

        return SmmTechsClient(config)
    raise ValueError(
        f"panel {config.name!r} has unknown dialect {config.dialect!r}; "
        f"expected one of: {', '.join(DIALECTS)}"
    )
