"""`ocppsim.core` stays sans-I/O: it imports no asyncio, sockets, lxml or prompt_toolkit; and
OCPP versions are named in the version registry only."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import ocppsim
from ocppsim.core import versions


def test_core_imports_no_io_libraries() -> None:
    code = (
        "import sys\n"
        "import ocppsim.core.rpc, ocppsim.core.defaults, ocppsim.core.validation\n"
        "import ocppsim.core.errors, ocppsim.core.resources\n"
        "import ocppsim.core.versions, ocppsim.core.configuration\n"
        "import ocppsim.core.events\n"
        "bad = [m for m in ('asyncio', 'websockets', 'lxml', 'prompt_toolkit', 'socket',"
        " 'aiohttp', 'zeep') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_ocpp_j_path_needs_no_xml() -> None:
    code = (
        "import sys, asyncio\n"
        "from ocppsim.repl.shell import Shell\n"
        "async def main():\n"
        "    shell = Shell()\n"
        "    assert await shell.execute_words(['start_cs', '0'])\n"
        "    await shell.sim.shutdown()\n"
        "asyncio.run(main())\n"
        "print(','.join(m for m in ('lxml', 'zeep', 'aiohttp') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


#: The registered versions' names (those this installation cannot speak too: 2.1 on Python
#: 3.10). A version still to come is pinned once it is registered: whoever adds its entry moves
#: its literals into it.
_NAMES = sorted((entry.name for entry in versions.registered()), key=len, reverse=True)
_VERSION = "(?:" + "|".join(re.escape(name) for name in _NAMES) + ")"
#: a literal that is a version or a subprotocol (`"1.5"`, `"ocpp1.5"`)
_EXACT = re.compile(rf"(?:ocpp)?{_VERSION}")
#: a literal that names one (`"OCPP 1.5 meter values"`, `"-p ocpp1.5"`)
_NAMED = re.compile(rf"(?i:ocpp) ?{_VERSION}(?![\w.])")
#: a literal that builds a subprotocol from a version (`"ocpp" + v`, `f"ocpp{v}"`)
_PREFIX = re.compile(r"(?<![\w./-])ocpp$")


def _program_strings(tree: ast.AST) -> list[ast.Constant]:
    """The string literals that reach the program: not docstrings, nor other bare strings, nor
    the name of a Python package given as `package=` (the PyPI package `ocpp` is no
    subprotocol)."""
    bare = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    bare |= {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.keyword) and node.arg == "package"
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in bare
    ]


def test_no_ocpp_version_is_named_outside_the_registry() -> None:
    """Which versions exist, their subprotocols and what differs between them is the version
    registry's data (`ocppsim/core/versions/`): no other module's string literals name a registered
    OCPP version or subprotocol, or build one from `"ocpp"`. Docstrings and comments may cite a
    version where they explain a rule ("OCPP 1.6 §5.3"); `SOAP 1.2` or `TLS 1.2` are not OCPP
    versions."""
    package = Path(ocppsim.__file__).resolve().parent
    registry = package / "core" / "versions"
    # An installed wheel also holds the example plugins as data (ocppsim/data/plugins): they
    # are plugins, written against the public api like a user's, not the package's modules.
    shipped_data = package / "data"
    found = []
    for path in sorted(package.rglob("*.py")):
        if registry in path.parents or shipped_data in path.parents:
            continue
        for node in _program_strings(ast.parse(path.read_text(encoding="utf-8"))):
            text = node.value
            if _EXACT.fullmatch(text) or _NAMED.search(text) or _PREFIX.search(text):
                found.append(f"{path.relative_to(package)}:{node.lineno}: {text[:60]!r}")
    assert not found, "take these from ocppsim.core.versions:\n" + "\n".join(found)


def test_the_version_rule_catches_what_it_should() -> None:
    caught = [
        'version != "1.2"',
        'protocol = "ocpp1.5"',
        'help="OCPP 1.5 meter values"',
        'x = "ocpp" + version',
        'x = f"ocpp{version}"',
        'x = "use ocpp1.2 or ocpp1.5"',
        'DEFAULT = ("ocpp1.2", "ocpp1.5")',
    ]
    allowed = [
        '"""Cites OCPP 1.6 §5.3 in a docstring."""',
        'x = "not a SOAP 1.2 Envelope"',
        'x = "a TLS version below 1.2"',
        'x = "/ocpp"',
        'logger = "ocppsim.sim"',
        'x = f"OCPP {version}"',
        'source = SchemaSource("v16/schemas", package="ocpp")',
    ]

    def flagged(source: str) -> bool:
        return any(
            _EXACT.fullmatch(n.value) or _NAMED.search(n.value) or _PREFIX.search(n.value)
            for n in _program_strings(ast.parse(source))
        )

    assert [s for s in caught if not flagged(s)] == []
    assert [s for s in allowed if flagged(s)] == []
