"""Sans-I/O core: the version registry, schemas and validation, default payloads, RPC session.

Nothing here does I/O, uses asyncio, sockets, lxml or prompt_toolkit (tests pin that).
"""
