"""Shared fixtures come from the plugin modules in tests/fakes/."""

pytest_plugins = [
    "tests.fakes.sandbox_fixtures",
    "tests.fakes.panel_fixtures",
    "tests.fakes.storage_fixtures",
    "tests.fakes.tracking_fixtures",
    "tests.fakes.telegram_fixtures",
    "tests.fakes.payment_fixtures",
    "tests.fakes.crypto_pay_fixtures",
]
