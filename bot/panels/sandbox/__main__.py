"""``smm-sandbox``: run the sandbox panel until Ctrl-C, for trying the bot without a panel."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from decimal import Decimal, InvalidOperation

from bot.panels.sandbox.server import DIALECT_PATHS, SandboxPanel

DEFAULT_PORT = 8077


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}") from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="smm-sandbox", description="Run a sandbox SMM panel that speaks every dialect."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--size", type=int, default=120, help="services in the catalog (≥ 16)")
    parser.add_argument("--speed", type=float, default=1.0, help="how fast orders progress")
    parser.add_argument("--balance", type=_decimal, default=Decimal(1000))
    parser.add_argument("--key", default="sandbox-key")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be positive")
    if args.latency < 0:
        parser.error("--latency cannot be negative")
    return args


async def run(args: argparse.Namespace) -> None:
    """Serve until cancelled, printing where each dialect listens."""
    sandbox = SandboxPanel(
        key=args.key,
        catalog_size=args.size,
        balance=args.balance,
        seed=args.seed,
        speed=args.speed,
    )
    sandbox.faults.latency = args.latency
    async with sandbox.serve(args.host, args.port):
        print(f"Sandbox panel: {len(sandbox.catalog)} services, balance {args.balance}")
        for dialect in DIALECT_PATHS:
            print(f"  {dialect:9} {sandbox.url_for(dialect)}")
        print(f"  API key   {sandbox.key}")
        print("Press Ctrl-C to stop.", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``smm-sandbox`` command."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
