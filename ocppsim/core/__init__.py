"""Sans-I/O core: message catalog, schemas and validation, default payloads, RPC session.

Nothing here does I/O, uses asyncio, sockets, lxml or prompt_toolkit (tests pin that).
"""
