"""Where tokens are kept between kernels: memory (default), a private file, or the keyring."""

from __future__ import annotations

from .base import MemoryStore, TokenStore, make_store, store_key

__all__ = ["MemoryStore", "TokenStore", "make_store", "store_key"]
