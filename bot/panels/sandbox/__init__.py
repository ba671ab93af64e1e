"""A realistic SMM panel served on loopback: every dialect the bot speaks, one shared state.

```python
sandbox = SandboxPanel(key="sandbox-key", catalog_size=120, balance=Decimal("1000"), seed=7)
async with sandbox.serve("127.0.0.1", 0) as base_url:
    url = sandbox.url_for("v2")   # or "smmbros", "smmsend", "smmtechs"
```
"""

from bot.panels.sandbox.catalog import CatalogService, build_catalog
from bot.panels.sandbox.faults import FAULT_KINDS, Faults
from bot.panels.sandbox.server import (
    DIALECT_ORDER_TYPES,
    DIALECT_PATHS,
    RequestLimits,
    SandboxPanel,
    SandboxRequest,
)
from bot.panels.sandbox.state import SandboxCancel, SandboxOrder, SandboxRefill

__all__ = [
    "DIALECT_ORDER_TYPES",
    "DIALECT_PATHS",
    "FAULT_KINDS",
    "CatalogService",
    "Faults",
    "RequestLimits",
    "SandboxCancel",
    "SandboxOrder",
    "SandboxPanel",
    "SandboxRefill",
    "SandboxRequest",
    "build_catalog",
]
