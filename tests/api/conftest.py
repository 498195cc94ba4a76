"""The fuzzer works on the authorization table's district: see tests/authz/world.py."""

from tests.authz.world import app_context, quick_pdfs, world

__all__ = ["app_context", "quick_pdfs", "world"]
