"""`ocppsim certs DIR`: write a test PKI (a CA, a server certificate for localhost, a client
certificate per charge point) and say how to use it. A command-line entry: it prints."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

from ocppsim.security.pem import CertificateProblem
from ocppsim.security.pki import (
    DEFAULT_SERVER_HOSTS,
    KEY_TYPES,
    Pki,
    check_cp_id_for_file,
    make_pki,
    write_pki,
)

DEFAULT_ID_FORMAT = "cp{n:02d}"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocppsim certs",
        description=(
            "Write a test PKI into DIR: ca.pem/ca.key (a CA), server.pem/server.key (a TLS server "
            "certificate for localhost and 127.0.0.1) and <id>.pem/<id>.key per charge point (a "
            "TLS client certificate whose CN is the id), for OCPP security profiles 2 and 3. "
            "For tests only: the CA key signs anything."
        ),
        epilog="examples: ocppsim certs certs --cp cp01 --cp cp02 | ocppsim certs certs --count 10",
    )
    parser.add_argument("folder", metavar="DIR", help="where to write (created if missing)")
    parser.add_argument(
        "--cp",
        metavar="ID",
        action="append",
        default=[],
        help="a charge point id to make a client certificate for (repeatable)",
    )
    parser.add_argument(
        "--count",
        metavar="N",
        type=int,
        default=None,
        help="also make N charge point ids from --id-format (default: 1 when no --cp)",
    )
    parser.add_argument(
        "--id-format",
        metavar="FMT",
        default=DEFAULT_ID_FORMAT,
        help=f"how --count names charge point n = 1..N (default {DEFAULT_ID_FORMAT})",
    )
    parser.add_argument(
        "--host",
        metavar="NAME",
        action="append",
        default=[],
        help="another DNS name or IP address the server certificate is valid for (repeatable; "
        f"{' and '.join(DEFAULT_SERVER_HOSTS)} always)",
    )
    parser.add_argument(
        "--key-type",
        choices=KEY_TYPES,
        default="ec",
        help="EC P-256 (default) or RSA 2048 keys",
    )
    parser.add_argument("--force", action="store_true", help="replace files that exist")
    return parser


def _cp_ids(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    count = args.count if args.count is not None else (0 if args.cp else 1)
    if count < 0:
        parser.error(f"--count must be 0 or more, not {count}")
    ids = list(args.cp)
    for n in range(1, count + 1):
        try:
            ids.append(args.id_format.format(n=n))
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            parser.error(
                f"--id-format {args.id_format!r} cannot name charge point {n} ({exc!r}); "
                "use {n} for the number, e.g. cp{n:02d}"
            )
    ids = list(dict.fromkeys(ids))
    if not ids:
        parser.error("no charge point: give --cp ID or --count N")
    for cp_id in ids:
        try:
            check_cp_id_for_file(cp_id)
        except CertificateProblem as exc:
            parser.error(str(exc))
    return ids


def _shown(path: Path) -> str:
    return shlex.quote(str(path))


def certs_main(argv: list[str]) -> int:
    """Run `ocppsim certs` with `argv` (the words after `certs`); the process exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    ids = _cp_ids(parser, args)
    hosts = list(dict.fromkeys([*DEFAULT_SERVER_HOSTS, *args.host]))
    folder = Path(args.folder)
    try:
        pki = make_pki(ids, hosts=hosts, key_type=args.key_type)
        written = write_pki(pki, folder, force=args.force)
    except (CertificateProblem, ValueError) as exc:
        print(f"ocppsim certs: error: {exc}", file=sys.stderr)
        return 1
    try:
        _report(pki, written, ids, hosts, folder)
    except BrokenPipeError:  # `ocppsim certs DIR | head`: the files are written all the same
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _report(pki: Pki, written: list[Path], ids: list[str], hosts: list[str], folder: Path) -> None:
    """Print what was written and the commands that use it."""
    notes = {
        "ca.pem": f"test CA {pki.ca.common_name!r}: trust it at both ends",
        "ca.key": "the CA's key (signs certificates: keep it for `start_cs --ca-key`)",
        "server.pem": "server certificate for " + ", ".join(hosts),
        **{
            f"{cp_id}.pem": f"client certificate for charge point {cp_id} (CN={cp_id})"
            for cp_id in ids
        },
    }
    width = max(len(str(p)) for p in written)
    for path in written:
        note = notes.get(path.name, "")
        print(f"wrote {str(path):<{width}}  {note}".rstrip())
    until = min(c.certificate.not_valid_after_utc for c in (pki.server, *pki.clients.values()))
    print(
        f"{len(written)} files; certificates valid until {until:%Y-%m-%d}, keys readable by "
        "you only (mode 0600)."
    )
    first = ids[0]
    ca, server_pem, server_key = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    print("\nUse them (security profile 3, mutual TLS):")
    print(
        f"  ocppsim start_cs 9443 -u /ocpp --tls-cert {_shown(server_pem)} "
        f"--tls-key {_shown(server_key)} --client-ca {_shown(ca)}"
    )
    print(
        f"  ocppsim start_cp wss://localhost:9443/ocpp {shlex.quote(first)} --ca {_shown(ca)} "
        f"--cert {_shown(folder / f'{first}.pem')} --key {_shown(folder / f'{first}.key')}"
    )
    print("Check them:")
    first_pem = _shown(folder / f"{first}.pem")
    print(f"  openssl verify -CAfile {_shown(ca)} {_shown(server_pem)} {first_pem}")
