"""Ways customers pay: provider clients and their webhook receivers, free of Telegram code."""
