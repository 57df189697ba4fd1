"""`ocppsim check` end to end, real processes: against a plain ocppsim Central System (no
plugin, no option) the csms suites pass every case and write JUnit that CI tools read;
against a Central System broken on purpose (a plugin) the failing cases name the requirement
and the frame, and the command exits 1; --list, usage errors (exit 2)."""

from __future__ import annotations

import subprocess
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import junitparser
from harness import SimProcess, free_port, ocppsim_command

#: Suite parameters that keep the run short (the defaults wait for a real Central System).
FAST = [
    "--set",
    "retry_interval=1",
    "--set",
    "quiet_time=0.5",
    "--set",
    "late_answer_delay=0.5",
    "--timeout",
    "5",
]


def check(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """`ocppsim check …`, run to its end."""
    return subprocess.run(
        [*ocppsim_command(), "check", *args], capture_output=True, text=True, timeout=timeout
    )


def target(sims: Any, port: int, *options: str) -> SimProcess:
    """`ocppsim start_cs <port> -u /ocpp`: a plain Central System, nothing loaded."""
    return sims.cs(port, "-u", "/ocpp", *options)


def junit_cases(path: Path) -> dict[str, str]:
    """Each case of a JUnit file, as junitparser (as CI tools) reads it: its verdict."""
    verdicts: dict[str, str] = {}
    for suite in junitparser.JUnitXml.fromfile(str(path)):
        for case in suite:
            kinds = [type(r).__name__.lower() for r in case.result]
            verdicts[case.name.split()[0]] = kinds[0] if kinds else "pass"
    return verdicts


def test_done_when_the_csms_suite_passes_against_a_plain_ocppsim_cs_and_writes_junit(
    sims: Any, port: int, tmp_path: Path
) -> None:
    """The issue's command, exactly, against `ocppsim start_cs <port> -u /ocpp` (no plugin, no
    option): every 1.6 case passes and none is skipped, JUnit is written; the 2.0.1 suite
    likewise, at the same time (another identity: one charge point per identity)."""
    cs = target(sims, port)
    url = f"ws://127.0.0.1:{port}/ocpp"
    out16, out201 = tmp_path / "out.xml", tmp_path / "out201.xml"
    command = [*ocppsim_command(), "check"]
    runs = {
        "1.6": subprocess.Popen(
            [*command, url, "--suite", "csms", "-p", "ocpp1.6", "--junit", str(out16)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
        "2.0.1": subprocess.Popen(
            [*command, url, "--suite", "csms", "-p", "ocpp2.0.1", "--id", "ocppsim-check-201"]
            + ["--junit", str(out201), *FAST],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ),
    }
    done = {version: (p, *p.communicate(timeout=180)) for version, p in runs.items()}
    for version, (process, stdout, stderr) in done.items():
        assert process.returncode == 0, version + stdout + stderr
        assert stderr == ""
        summary = stdout.strip().splitlines()[-1]
        assert summary.startswith("30 case(s): 30 passed ("), summary
        assert "SKIP" not in stdout and "does not take asks" not in stdout
    text16 = done["1.6"][1]
    for case in ("AUTH-02", "TX-02", "TX-03", "DATA-01", "REMOTE-02", "BOOT-02", "ERROR-05"):
        assert f"\nCSMS-16-{case} " in text16 and f"CSMS-16-{case} FAIL" not in text16
    assert "\nCSMS-16-REMOTE-02        1.6   PASS     RemoteStopTransaction" in text16
    root = ET.parse(out16).getroot()
    assert root.get("tests") == "30" and root.get("failures") == "0" and root.get("errors") == "0"
    assert root.get("skipped") == "0"
    cases16 = junit_cases(out16)
    assert len(cases16) == 30 and set(cases16.values()) == {"pass"}
    assert next(iter(cases16)) == "CSMS-16-BOOT-01"
    cases201 = junit_cases(out201)
    assert len(cases201) == 30 and set(cases201.values()) == {"pass"}
    assert {"CSMS-201-AUTH-02", "CSMS-201-TX-02", "CSMS-201-DATA-01", "CSMS-201-BOOT-02"} <= set(
        cases201
    )
    # the only error lines are the CALLERRORs the error-handling cases provoke on purpose, the
    # SecurityError of a station's CALL while Pending or Rejected (B02.FR.09, B03.FR.07), and
    # the late answer (ERROR-05: after the Central System's CALL timed out)
    provoked = [
        r">>cp#ocppsim-check(-201)? \[4,",
        r"WARNING : \w+ for (CALL|message) #",
        r"can't be parsed",
        r"no pending CALL #ocppsim-no-such-call",
        r"cs: Error for the message #\w+ : timeout$",
        r"WARNING : no pending CALL #\w+, answer ignored$",
    ]
    assert cs.errors(ignore=provoked) == []


BROKEN = '''
"""A Central System that accepts every idTag and gives every transaction the same id."""
system = "cs"


def on_load(api):
    api.on_call("Authorize", lambda payload: {"idTagInfo": {"status": "Accepted"}})
    api.on_call(
        "StartTransaction",
        lambda payload: {"transactionId": 7, "idTagInfo": {"status": "Accepted"}},
    )
    api.log("[broken] loaded")
'''


def test_against_a_broken_central_system_the_failing_cases_name_requirement_and_frame(
    sims: Any, port: int, tmp_path: Path
) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "broken.py").write_text(textwrap.dedent(BROKEN), encoding="utf-8")
    cs = sims.raw("--plugins-dir", str(plugins), "start_cs", str(port), "-u", "/ocpp")
    cs.expect(rf"Server is listening on port {port}")
    cs.send("load broken")  # its answers win over the Central System's own
    cs.expect(r"\[broken\] loaded")
    out = tmp_path / "out.xml"
    cases = ["CSMS-16-AUTH-01", "CSMS-16-AUTH-02", "CSMS-16-TX-03"]
    done = check(
        f"ws://127.0.0.1:{port}/ocpp",
        "--suite",
        "csms",
        "-p",
        "1.6",
        *[a for c in cases for a in ("--case", c)],
        "--junit",
        str(out),
        "--json",
        str(tmp_path / "out.json"),
        *FAST,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    text = done.stdout
    assert "3 case(s): 1 passed, 2 failed" in text
    assert "CSMS-16-AUTH-02 FAIL: step 1 (send Authorize): the answer to Authorize:" in text
    assert "requirement: OCPP 1.6 §4.1 (Authorize), §7.15" in text
    assert 'frame: [3,"' in text and '{"idTagInfo":{"status":"Accepted"}}]' in text
    assert "CSMS-16-TX-03 FAIL: step 2 (send StartTransaction)" in text
    failures = {
        c.name.split()[0]: c.result[0]
        for suite in junitparser.JUnitXml.fromfile(str(out))
        for c in suite
        if c.result
    }
    assert set(failures) == {"CSMS-16-AUTH-02", "CSMS-16-TX-03"}
    message = failures["CSMS-16-TX-03"].message
    assert "transactionId is 7, expected anything but 7" in message
    assert "OCPP 1.6 §4.8" in (failures["CSMS-16-TX-03"].text or "")
    assert "FAIL transaction: the Central System gave transactionId 7 to a new transaction" in (
        failures["CSMS-16-TX-03"].text or ""
    )


def test_list_and_usage_errors(tmp_path: Path) -> None:
    listed = check("--suite", "csms", "-p", "2.0.1", "--list")
    assert listed.returncode == 0
    assert listed.stdout.splitlines()[0].startswith("CSMS-201-BOOT-01")
    assert "OCPP 2.0.1 Part 2 B01" in listed.stdout
    no_url = check("--suite", "csms", "-p", "1.6")
    assert no_url.returncode == 2
    assert "give the Central System's URL" in no_url.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("suite: csms\nversions: [1.6]\ncases:\n  - id: X\n", encoding="utf-8")
    malformed = check("ws://127.0.0.1:1/ocpp", "--suite", str(bad))
    assert malformed.returncode == 2
    assert malformed.stderr.strip() == (f"ocppsim check: {bad}:4: case X: `title:' is missing")
    unknown_case = check("--suite", "csms", "-p", "1.6", "--case", "CSMS-16-NOPE", "--list")
    assert unknown_case.returncode == 2
    assert "no case CSMS-16-NOPE in the suite for OCPP 1.6 (--list lists them)" in (
        unknown_case.stderr
    )
    unreachable = check(
        f"ws://127.0.0.1:{free_port()}/ocpp",
        "--suite",
        "csms",
        "-p",
        "1.6",
        "--case",
        "CSMS-16-BOOT-01",
        "--case",
        "CSMS-16-HEARTBEAT-01",
    )
    assert unreachable.returncode == 1
    assert "2 case(s): 0 passed, 2 could not run" in unreachable.stdout
    assert "Traceback" not in unreachable.stdout + unreachable.stderr


def test_verdicts_at_the_prompt(sims: Any, port: int) -> None:
    """`ocppsim --verdicts start_cs …`: each finding about a charge point's frames is a line at
    the Central System, with the frame; `verdicts show` lists them, `verdicts off` stops."""
    cs = sims.raw("--verdicts", "start_cs", str(port), "-u", "/ocpp")
    cs.expect(rf"Server is listening on port {port}")
    cp = sims.cp(f"ws://127.0.0.1:{port}/ocpp", "cp01", "-p", "ocpp1.6")
    cp.send("metervalues connectorId=1 transactionId=99")
    line = cs.expect(r"cs: verdict FAIL transaction: MeterValues names transactionId 99").string
    assert "which is not an open transaction" in line and "OCPP 1.6 §4.7 (MeterValues)" in line
    assert '"MeterValues",{"connectorId":1,"transactionId":99' in line
    cp.send('send_raw -e [2,"same-id","Heartbeat",{}]')
    cp.send('send_raw -e [2,"same-id","Heartbeat",{}]')
    cs.expect(r"verdict FAIL unique-id: Heartbeat reuses the unique id 'same-id'")
    mark = len(cs.lines())
    cs.send("verdicts show")
    cs.expect(r"FAIL unique-id: Heartbeat reuses", since=mark)
    cs.send("verdicts off")
    cs.expect(r"Verdicts off \(\d+ finding\(s\)\)\.")
    mark = len(cs.lines())
    cp.send("metervalues connectorId=1 transactionId=98")
    cp.expect(r"<<cs \[3,")
    cs.send("verdicts")
    cs.expect("Verdicts are off", since=mark)
    assert [x for x in cs.lines()[mark:] if "verdict FAIL" in x] == []


#: The cp suite's parameters that keep the run short (the defaults wait for a real charger).
FAST_CP = [
    *FAST,
    "--set",
    "heartbeat_check_interval=1",
    "--set",
    "meter_interval=1",
    "--set",
    "reboot_time=10",
]


def listening_check(port: int, *args: str) -> SimProcess:
    """`ocppsim check --listen <port> --suite cp …`, returned once it listens."""
    checking = SimProcess(
        ["check", "--listen", str(port), "--host", "127.0.0.1", "--suite", "cp", *args],
        name="check",
        goodbye=None,
    )
    checking.expect(rf"listening on ws://127.0.0.1:{port}")
    return checking


def finished(checking: SimProcess) -> tuple[int, str]:
    """The exit status and output of a check run, once it ended."""
    status = checking.proc.wait(timeout=180)
    checking.expect(r"\d+ case\(s\): ")
    return status, "\n".join(checking.lines())


def test_the_cp_suite_passes_against_an_ocppsim_charge_point(
    sims: Any, port: int, tmp_path: Path
) -> None:
    """`ocppsim check --listen PORT --suite cp`: ocppsim is the Central System, an ocppsim
    Charge Point (check_target_cp loaded, as a person would at its prompt) connects; every
    case passes, JUnit and JSON are written, exit 0."""
    out = tmp_path / "cp.xml"
    report = tmp_path / "cp.json"
    checking = listening_check(
        port, "-p", "ocpp1.6", "--junit", str(out), "--json", str(report), *FAST_CP
    )
    try:
        cp = sims.raw("load", "check_target_cp")
        cp.expect(r"\[check_target_cp\] Ready")
        cp.send(f"start_cp ws://127.0.0.1:{port}/ cp01 -p ocpp1.6")
        status, text = finished(checking)
    finally:
        checking.kill()
    assert status == 0, text
    assert "charge point cp01 connected (OCPP 1.6)" in text
    assert text.splitlines()[-1].startswith("26 case(s): 26 passed (")
    root = ET.parse(out).getroot()
    assert root.get("tests") == "26" and root.get("failures") == "0"
    cases = [c.name for suite in junitparser.JUnitXml.fromfile(str(out)) for c in suite]
    assert cases[0].startswith("CP-16-BOOT-01 ")
    assert '"CP-16-TX-01"' in report.read_text(encoding="utf-8")


BROKEN_CP = '''
"""A charge point whose GetConfiguration answers lack `readonly`, which the schema requires."""
system = "cp"


def on_load(api):
    api.on_call(
        "GetConfiguration",
        lambda payload: {"configurationKey": [{"key": "HeartbeatInterval", "value": "300"}]},
    )
    api.log("[broken] loaded")
'''


def test_against_a_broken_charge_point_the_failing_case_names_requirement_and_frame(
    sims: Any, port: int, tmp_path: Path
) -> None:
    """A charge point whose GetConfiguration answers break their schema (a plugin): the case
    fails with the requirement and the frame, the monitor says which schema, exit 1."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "broken_cp.py").write_text(textwrap.dedent(BROKEN_CP), encoding="utf-8")
    checking = listening_check(
        port, "-p", "1.6", "--case", "CP-16-CONF-01", "--connect-timeout", "60", *FAST_CP
    )
    try:
        cp = sims.raw("--plugins-dir", str(plugins), "load", "broken_cp")
        cp.expect(r"\[broken\] loaded")
        cp.send(f"start_cp ws://127.0.0.1:{port}/ cp01 -p ocpp1.6")
        status, text = finished(checking)
    finally:
        checking.kill()
    assert status == 1, text
    assert "1 case(s): 0 passed, 1 failed" in text
    assert "CP-16-CONF-01 FAIL" in text
    assert "requirement: OCPP 1.6 §5.8 (GetConfiguration)" in text
    assert 'frame: [3,"' in text and '"value":"300"}]}]' in text


def test_verdicts_on_the_charge_points_of_a_process(sims: Any, port: int) -> None:
    """`ocppsim --verdicts start_cp …` with a second Charge Point started at the prompt: the
    Central System's frames to either are checked, each finding a line naming the CP."""
    cs = sims.cs(port, "-u", "/ocpp")
    url = f"ws://127.0.0.1:{port}/ocpp"
    cps = sims.raw("--verdicts", "start_cp", url, "cp01", "-p", "ocpp1.6")
    cps.expect(r"cp#cp01: Connected to Central System")
    cps.send(f"start_cp {url} cp02 -p ocpp1.6")
    cs.expect(r"ChargePoint #cp02 connected")
    cs.send("remote_stoptransaction --remote-id cp02 transactionId=99")
    line = cps.expect(r"cp#cp02: verdict FAIL transaction: RemoteStopTransaction names").string
    assert "transactionId 99, which the Central System never gave" in line
    assert '"RemoteStopTransaction",{"transactionId":99}]' in line
    cps.expect_none(r"cp#cp01: verdict")
