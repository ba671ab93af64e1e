"""Fixtures: filled in by the owning work stream."""
