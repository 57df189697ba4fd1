"""Scenarios: suites of named cases, written as YAML files (read with `yaml.safe_load`) or as
Python modules, loaded and checked before anything runs.

A suite says which side it tests (`suite: csms`: a Central System, which ocppsim meets as its
charge point; `suite: cp`: a charge point, which ocppsim meets as its Central System), the
OCPP versions its cases hold for, the id prefix of each version (`CSMS-16`: its cases are
`CSMS-16-BOOT-01`, …), its parameters (values a user may change with `--set`) and its cases.
A case has an id, a title, the requirement it checks, and steps; see docs/conformance.md for
each step kind. A malformed scenario is a `ScenarioError` naming the file, the line, the case,
the step and what is wrong, before any case runs.

The built-in suites are such files, shipped in the package (`data_dir("suites")`).
"""

from __future__ import annotations

import difflib
import importlib.util
import itertools
import re
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ocppsim.check.matching import MatchError, check_matcher, variables_in
from ocppsim.core import versions
from ocppsim.core.errors import OcppSimError
from ocppsim.core.resources import data_dir
from ocppsim.core.versions import Service

#: Which side a suite tests, and the service whose CALLs ocppsim sends there (`cs`: the CALLs a
#: Central System answers, which ocppsim sends as a charge point).
ROLES: dict[str, Service] = {"csms": "cs", "cp": "cp"}
#: The variables every case has.
BUILTINS = frozenset({"charge_point_id", "version", "now", "uid", "case_id"})
#: How each step kind is written: its key, the kind of its value, and its other keys.
STEP_KINDS: dict[str, tuple[str, frozenset[str]]] = {
    "send": (
        "action",
        frozenset(
            {"payload", "defaults", "validate", "expect", "expect_error", "within", "capture"}
        ),
    ),
    "send_raw": ("text", frozenset({"expect", "expect_error", "within", "capture"})),
    "expect": (
        "action",
        frozenset(
            {"payload", "within", "capture", "reply", "reply_error", "reply_delay", "no_reply"}
        ),
    ),
    "expect_no": ("action", frozenset({"within", "payload"})),
    "answer": ("action", frozenset({"with", "error", "delay", "ignore", "times"})),
    "wait": ("seconds", frozenset()),
    "set": ("mapping", frozenset()),
    "assert": ("mapping", frozenset()),
    "ask": ("text", frozenset({"do"})),
    "fault": ("kind", frozenset({"options", "times", "action"})),
    "connect": ("none", frozenset()),
    "disconnect": ("none", frozenset()),
    "boot": ("none", frozenset({"status"})),
}
_COMMON_KEYS = frozenset({"title"})
_CASE_KEYS = frozenset(
    {"id", "title", "requirement", "description", "versions", "boot", "needs", "timeout", "steps"}
)
_SUITE_KEYS = frozenset(
    {"suite", "title", "description", "versions", "id_prefix", "parameters", "cases"}
)
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class ScenarioError(OcppSimError, ValueError):
    """A scenario file that cannot be run: the text names the file, line, case, step and
    what is wrong."""


@dataclass(frozen=True)
class Parameter:
    """A value a suite's cases read as `${name}`; `--set name=value` changes it."""

    name: str
    default: Any
    help: str = ""


@dataclass(frozen=True)
class Step:
    """One step of a YAML case: its `kind` (`send`, `expect`, …), the value of its kind's
    key (an action, seconds, a text…), its other keys, and where it was written."""

    number: int
    kind: str
    value: Any
    options: dict[str, Any]
    line: int | None = None

    def describe(self) -> str:
        """`send Authorize`, `wait 2 s`: what the step does, for the report."""
        title = self.options.get("title")
        if isinstance(title, str):
            return title
        value = self.value
        if self.kind == "wait":
            return f"wait {value} s"
        if self.kind in ("set", "assert"):
            return f"{self.kind} " + ", ".join(str(k) for k in value)
        if self.kind in ("connect", "disconnect", "boot"):
            return self.kind
        if self.kind == "send_raw":
            return f"send_raw {str(value)[:60]}"
        if self.kind == "ask":
            return f"ask: {str(value)[:80]}"
        return f"{self.kind} {value}"


CaseFunction = Callable[[Any], Awaitable[None]]


@dataclass
class Case:
    """One case: `id` as written (the suite's prefix for a version comes first), its title,
    the requirement it checks, and either YAML `steps` or a Python `function(run)`."""

    id: str
    title: str
    requirement: str
    description: str = ""
    versions: tuple[str, ...] | None = None
    boot: str = "accepted"
    needs: tuple[str, ...] = ()
    timeout: float | None = None
    steps: tuple[Step, ...] = ()
    function: CaseFunction | None = None
    source: str = ""
    line: int | None = None

    def holds_for(self, version: str) -> bool:
        return self.versions is None or version in self.versions


@dataclass
class Suite:
    """A suite of cases for one side (`csms` or `cp`) in some OCPP versions.

    In a Python scenario file:

        suite = Suite("csms", title="My checks", versions=["1.6"], id_prefix={"1.6": "MY-16"})

        @suite.case("BOOT-01", title="Boots", requirement="OCPP 1.6 §4.2")
        async def boots(run):
            await run.send("BootNotification", expect={"status": "Accepted"})
    """

    role: str
    title: str = ""
    versions: tuple[str, ...] = ()
    id_prefix: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, Parameter] = field(default_factory=dict)
    cases: list[Case] = field(default_factory=list)
    description: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ScenarioError(
                f"{self.source or 'suite'}: suite must be csms or cp, not {self.role!r}"
            )
        self.versions = tuple(_version_name(v, self.source or "suite") for v in self.versions)
        self.id_prefix = {
            _version_name(k, self.source or "suite"): str(v) for k, v in self.id_prefix.items()
        }
        self.parameters = {
            name: p if isinstance(p, Parameter) else _parameter(name, p, self.source)
            for name, p in self.parameters.items()
        }

    def case(
        self,
        case_id: str,
        *,
        title: str,
        requirement: str,
        description: str = "",
        versions: Iterable[str] | None = None,
        boot: str = "accepted",
        needs: Iterable[str] = (),
        timeout: float | None = None,
    ) -> Callable[[CaseFunction], CaseFunction]:
        """A decorator that adds `async def fn(run)` as a case (Python scenarios)."""

        def decorator(fn: CaseFunction) -> CaseFunction:
            where = getattr(getattr(fn, "__code__", None), "co_filename", self.source)
            chosen = None if versions is None else tuple(_version_name(v, where) for v in versions)
            self.cases.append(
                Case(
                    id=case_id,
                    title=title,
                    requirement=requirement,
                    description=description,
                    versions=chosen,
                    boot=_boot_mode(boot, where),
                    needs=tuple(needs),
                    timeout=timeout,
                    function=fn,
                    source=str(where),
                )
            )
            return fn

        return decorator

    @property
    def service(self) -> Service:
        """The service whose CALLs ocppsim sends in this suite (`cs` when it tests a CSMS)."""
        return ROLES[self.role]

    def full_id(self, case: Case, version: str) -> str:
        """`CSMS-16-BOOT-01`: the case's id with the version's prefix, if the suite has one."""
        prefix = self.id_prefix.get(version)
        return f"{prefix}-{case.id}" if prefix else case.id

    def cases_for(self, version: str) -> list[tuple[str, Case]]:
        """The cases that hold for `version`, each with its full id."""
        if version not in self.versions:
            return []
        return [(self.full_id(c, version), c) for c in self.cases if c.holds_for(version)]

    def defaults(self) -> dict[str, Any]:
        """The parameters' default values."""
        return {name: p.default for name, p in self.parameters.items()}


# -- loading -----------------------------------------------------------------------------------


def _version_name(version: Any, where: str) -> str:
    """A version written in a scenario (`1.6`, `ocpp1.6`, 1.6 as a YAML number) by its name."""
    text = str(version)
    try:
        return versions.resolve(text).name
    except versions.VersionUnavailable:
        return next((e.name for e in versions.registered() if e.name == text.strip()), text)
    except versions.UnknownVersion as exc:
        raise ScenarioError(f"{where}: {exc}") from None


def _boot_mode(value: Any, where: str) -> str:
    if value in ("accepted", "none"):
        return str(value)
    raise ScenarioError(f"{where}: boot is `accepted' (the default) or `none', not {value!r}")


def _parameter(name: str, spec: Any, where: str) -> Parameter:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ScenarioError(f"{where}: parameter names are identifiers, not {name!r}")
    if isinstance(spec, dict) and set(spec) <= {"default", "help"} and "default" in spec:
        return Parameter(name, spec["default"], str(spec.get("help", "")))
    return Parameter(name, spec)


class _Lines:
    """Line numbers of a YAML document's cases and steps (PyYAML's values carry none)."""

    def __init__(self, text: str):
        self.cases: list[int] = []
        self.steps: list[list[int]] = []
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError:
            return
        if not isinstance(root, yaml.MappingNode):
            return
        for key, value in root.value:
            if getattr(key, "value", None) != "cases" or not isinstance(value, yaml.SequenceNode):
                continue
            for case in value.value:
                self.cases.append(case.start_mark.line + 1)
                steps: list[int] = []
                if isinstance(case, yaml.MappingNode):
                    for case_key, case_value in case.value:
                        if getattr(case_key, "value", None) == "steps" and isinstance(
                            case_value, yaml.SequenceNode
                        ):
                            steps = [s.start_mark.line + 1 for s in case_value.value]
                self.steps.append(steps)

    def case(self, index: int) -> int | None:
        return self.cases[index] if index < len(self.cases) else None

    def step(self, case: int, step: int) -> int | None:
        lines = self.steps[case] if case < len(self.steps) else []
        return lines[step] if step < len(lines) else None


def load_yaml(path: Path) -> Suite:
    """The suite of a YAML scenario file (ScenarioError says what is wrong, and where)."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{where}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        hint = ""
        rows = text.splitlines()
        if mark is not None and mark.line < len(rows) and "${" in rows[mark.line]:
            hint = ' (inside { } put ${…} in quotes: "${name}")'
        raise ScenarioError(f"{where}{at}: not valid YAML: {problem}{hint}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: a scenario file is a mapping with suite:, cases:, …")
    unknown = set(data) - _SUITE_KEYS
    if unknown:
        raise ScenarioError(
            f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}"
            f" (a suite has {', '.join(sorted(_SUITE_KEYS))})"
        )
    if "suite" not in data:
        raise ScenarioError(
            f"{where}: say which side the suite tests: `suite: csms' or `suite: cp'"
        )
    raw_versions = data.get("versions")
    if not isinstance(raw_versions, list) or not raw_versions:
        raise ScenarioError(f"{where}: `versions:' lists the OCPP versions the cases hold for")
    parameters = data.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise ScenarioError(f"{where}: `parameters:' is a mapping of names to default values")
    prefixes = data.get("id_prefix") or {}
    if not isinstance(prefixes, dict):
        raise ScenarioError(f"{where}: `id_prefix:' maps each version to its cases' id prefix")
    suite = Suite(
        role=str(data["suite"]),
        title=str(data.get("title") or path.stem),
        versions=tuple(raw_versions),
        id_prefix=prefixes,
        parameters=parameters,
        description=str(data.get("description") or ""),
        source=where,
    )
    cases = data.get("cases")
    if not isinstance(cases, list) or not cases:
        raise ScenarioError(f"{where}: `cases:' is a list of cases")
    lines = _Lines(text)
    seen: dict[str, int] = {}
    for index, raw in enumerate(cases):
        case = _case(suite, raw, index, lines, where)
        if case.id in seen:
            raise ScenarioError(
                f"{where}:{case.line or '?'}: case {case.id} is there twice"
                f" (first as case {seen[case.id] + 1})"
            )
        seen[case.id] = index
        suite.cases.append(case)
    return suite


def _case(suite: Suite, raw: Any, index: int, lines: _Lines, where: str) -> Case:
    line = lines.case(index)
    at = f"{where}:{line}" if line else where
    if not isinstance(raw, dict):
        raise ScenarioError(f"{at}: case {index + 1} is not a mapping (id:, title:, steps:, …)")
    case_id = raw.get("id")
    if not isinstance(case_id, str) or not _ID.fullmatch(case_id):
        raise ScenarioError(f"{at}: case {index + 1} needs an id (letters, digits, - _ .)")
    label = f"{at}: case {case_id}"
    unknown = set(raw) - _CASE_KEYS
    if unknown:
        raise ScenarioError(
            f"{label}: unknown key(s) {', '.join(sorted(map(str, unknown)))}"
            f" (a case has {', '.join(sorted(_CASE_KEYS))})"
        )
    for key in ("title", "requirement"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise ScenarioError(f"{label}: `{key}:' is missing")
    case_versions = raw.get("versions")
    chosen: tuple[str, ...] | None = None
    if case_versions is not None:
        if not isinstance(case_versions, list):
            raise ScenarioError(f"{label}: `versions:' is a list")
        chosen = tuple(_version_name(v, label) for v in case_versions)
        outside = [v for v in chosen if v not in suite.versions]
        if outside:
            raise ScenarioError(f"{label}: versions {', '.join(outside)} are not the suite's")
    needs = raw.get("needs") or []
    if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
        raise ScenarioError(f"{label}: `needs:' is a list of parameter names")
    for name in needs:
        if name not in suite.parameters:
            raise ScenarioError(f"{label}: needs {name!r}, which is no parameter of the suite")
    timeout = raw.get("timeout")
    if timeout is not None and not _is_number(timeout):
        raise ScenarioError(f"{label}: `timeout:' is a number of seconds")
    steps_raw = raw.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise ScenarioError(f"{label}: `steps:' is a list of steps")
    case = Case(
        id=case_id,
        title=raw["title"].strip(),
        requirement=raw["requirement"].strip(),
        description=str(raw.get("description") or "").strip(),
        versions=chosen,
        boot=_boot_mode(raw.get("boot", "accepted"), label),
        needs=tuple(needs),
        timeout=float(timeout) if timeout is not None else None,
        source=where,
        line=line,
    )
    known = set(suite.parameters) | BUILTINS
    steps = []
    for number, item in enumerate(steps_raw, 1):
        step_line = lines.step(index, number - 1)
        step_at = f"{where}:{step_line}" if step_line else where
        step = _step(item, number, step_line, f"{step_at}: case {case_id}, step {number}")
        _check_step(suite, case, step, known, f"{step_at}: case {case_id}, step {number}")
        steps.append(step)
    case.steps = tuple(steps)
    return case


def _step(item: Any, number: int, line: int | None, label: str) -> Step:
    if isinstance(item, str) and STEP_KINDS.get(item, ("", None))[0] == "none":
        return Step(number, item, None, {}, line)
    if not isinstance(item, dict) or not item:
        raise ScenarioError(f"{label}: a step is a mapping such as `send: Heartbeat'")
    kinds = [key for key in item if key in STEP_KINDS]
    if not kinds:
        keys = ", ".join(map(str, item))
        raise ScenarioError(
            f"{label}: no step kind among {keys}; a step is one of {', '.join(STEP_KINDS)}"
        )
    kind = kinds[0]  # the first (`send:` may take an `expect:` of its answer)
    allowed = STEP_KINDS[kind][1] | _COMMON_KEYS
    unknown = [str(k) for k in item if k != kind and k not in allowed]
    if unknown:
        hint = f" (a {kind} step takes {', '.join(sorted(allowed))})" if allowed else ""
        raise ScenarioError(f"{label}: {kind} does not take {', '.join(unknown)}{hint}")
    options = {k: v for k, v in item.items() if k != kind}
    return Step(number, kind, item[kind], options, line)


def _mapping(value: Any) -> bool:
    """A mapping, or a text that is one variable (`${boot_request}`)."""
    return isinstance(value, dict) or (
        isinstance(value, str) and value.startswith("${") and value.endswith("}")
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _seconds(value: Any) -> bool:
    """A number, or a `${…}` text that will be one."""
    return _is_number(value) or (isinstance(value, str) and "${" in value)


def _check_step(suite: Suite, case: Case, step: Step, known: set[str], label: str) -> None:
    """Raise ScenarioError when the step cannot run; add what it defines to `known`."""
    kind, value, options = step.kind, step.value, step.options
    case_versions = case.versions or suite.versions
    try:
        _check_step_values(suite, case_versions, kind, value, options, label)
    except MatchError as exc:
        raise ScenarioError(f"{label}: {exc}") from None
    # every variable read must be defined before
    read = variables_in(value) | variables_in({k: v for k, v in options.items() if k != "capture"})
    undefined = sorted(n for n in read if n not in known)
    if undefined:
        names = ", ".join(sorted(known - BUILTINS)) or "none"
        raise ScenarioError(
            f"{label}: ${{{undefined[0]}}} is not defined here (parameters and values"
            f" captured or set before this step: {names})"
        )
    capture = options.get("capture")
    if capture is not None:
        known.update(capture)
    if kind == "set":
        known.update(value)


def _check_step_values(
    suite: Suite,
    case_versions: tuple[str, ...],
    kind: str,
    value: Any,
    options: dict[str, Any],
    label: str,
) -> None:
    ours = suite.service
    theirs: Service = "cp" if ours == "cs" else "cs"
    if kind in ("send", "expect", "expect_no", "answer"):
        if not isinstance(value, str) or not value:
            raise ScenarioError(f"{label}: {kind} takes an action name")
    if kind == "send" and options.get("validate", True) is not False:
        _check_action(value, ours, case_versions, f"{label}: send", "send")
    if kind in ("expect", "answer") or (kind == "expect_no" and value != "any"):
        if not (kind == "answer" and value == "any"):
            _check_action(value, theirs, case_versions, f"{label}: {kind}", "receive")
    if kind == "send_raw" and not isinstance(value, str):
        raise ScenarioError(f"{label}: send_raw takes the text to send")
    if kind == "wait" and not _seconds(value):
        raise ScenarioError(f"{label}: wait takes a number of seconds")
    if kind in ("set", "assert"):
        if not isinstance(value, dict) or not value:
            raise ScenarioError(f"{label}: {kind} takes a mapping of variable names")
        for name in value:
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][\w.]*", name):
                raise ScenarioError(f"{label}: {name!r} is no variable name")
        if kind == "assert":
            for name, matcher in value.items():
                check_matcher(matcher, name)
    if kind == "ask":
        if not isinstance(value, str) or not value.strip():
            raise ScenarioError(f"{label}: ask takes the instruction, as a person would read it")
        do = options.get("do")
        if do is not None and not isinstance(do, dict):
            raise ScenarioError(f"{label}: do: is a mapping (send:, payload:, boot:, …)")
    if kind == "fault":
        if not isinstance(value, str) or not value:
            raise ScenarioError(f"{label}: fault takes the kind of fault")
        if not isinstance(options.get("options", {}), dict):
            raise ScenarioError(f"{label}: fault options: is a mapping")
    if kind == "boot" and options.get("status") not in (None, "Accepted", "Pending", "Rejected"):
        raise ScenarioError(f"{label}: boot status is Accepted, Pending or Rejected")
    if kind == "expect_no" and not _seconds(options.get("within")):
        raise ScenarioError(f"{label}: expect_no needs within: (seconds nothing may arrive)")
    for key in ("within", "reply_delay", "delay"):
        if key in options and not _seconds(options[key]):
            raise ScenarioError(f"{label}: {key} is a number of seconds")
    if "times" in options and not (isinstance(options["times"], int) and options["times"] > 0):
        raise ScenarioError(f"{label}: times is a whole number above 0")
    for key in ("payload", "reply", "with"):
        if key in options and not _mapping(options[key]):
            raise ScenarioError(f"{label}: {key} is a mapping of fields (or a ${{variable}})")
    for key in ("payload", "expect"):
        if key in options and (kind != "send" or key == "expect"):
            check_matcher(options[key], key)
    if "capture" in options:
        capture = options["capture"]
        if not isinstance(capture, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in capture.items()
        ):
            raise ScenarioError(
                f"{label}: capture maps variable names to paths (tx: transactionId)"
            )
    error = options.get("expect_error", options.get("reply_error", options.get("error")))
    if error is not None and not (
        isinstance(error, str)
        or (isinstance(error, list) and error and all(isinstance(e, str) for e in error))
    ):
        raise ScenarioError(f"{label}: an error is an error code, or a list of them")
    if "expect" in options and "expect_error" in options:
        raise ScenarioError(f"{label}: expect (a CALLRESULT) or expect_error, not both")


def _check_action(
    action: str, service: Service, case_versions: tuple[str, ...], label: str, verb: str
) -> None:
    """An action the side must be able to `verb` in at least one of the case's versions."""
    usable = []
    for name in case_versions:
        try:
            entry = versions.get(name)
        except OcppSimError:
            continue  # a version this installation cannot speak: its cases are skipped
        usable.append(entry)
        if entry.handles(service, action) or entry.is_send(service, action):
            return
    if not usable:
        return
    who = "charge point" if service == "cs" else "Central System"
    titles = " or ".join(e.title for e in usable)
    known = sorted({a for e in usable for a in e.actions.get(service, ())})
    close = difflib.get_close_matches(action, known, 1, 0.8)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise ScenarioError(
        f"{label}: {action!r} is not a CALL a {who} sends in {titles}{hint};"
        " `validate: false' sends anything on purpose"
        if verb == "send"
        else f"{label}: {action!r} is not a CALL a {who} sends in {titles}{hint}"
    )


_module_numbers = itertools.count(1)


def load_python(path: Path) -> list[Suite]:
    """The suites a Python scenario file defines (its module-level `Suite` objects)."""
    where = str(path)
    name = f"ocppsim_scenario_{next(_module_numbers)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ScenarioError(f"{where}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except ScenarioError:
        raise
    except Exception as exc:
        raise ScenarioError(f"{where}: it fails to load: {exc!r}") from None
    finally:
        sys.modules.pop(name, None)
    found = [value for value in vars(module).values() if isinstance(value, Suite)]
    if not found:
        raise ScenarioError(f'{where}: defines no Suite (suite = Suite("csms", …))')
    for suite in found:
        suite.source = suite.source or where
        if not suite.versions:
            raise ScenarioError(f"{where}: the suite lists no versions")
        if not suite.cases:
            raise ScenarioError(f"{where}: the suite has no cases (@suite.case(…))")
    return found


def load_file(path: Path) -> list[Suite]:
    """The suites of one scenario file, YAML (`.yaml`, `.yml`) or Python (`.py`)."""
    if path.suffix in (".yaml", ".yml"):
        return [load_yaml(path)]
    if path.suffix == ".py":
        return load_python(path)
    raise ScenarioError(f"{path}: a scenario file is .yaml, .yml or .py")


def builtin_dir() -> Path:
    """The folder of the built-in suites."""
    return data_dir("suites")


def builtin_suites(role: str | None = None) -> list[Suite]:
    """The built-in suites (those testing `role` only, when given)."""
    found = []
    for path in sorted(builtin_dir().glob("*.yaml")):
        suite = load_yaml(path)
        if role is None or suite.role == role:
            found.append(suite)
    return found


def find_suites(spec: str) -> list[Suite]:
    """The suites `--suite` names: `csms` or `cp` (the built-in ones), a scenario file, or a
    folder of them."""
    if spec in ROLES and not Path(spec).exists():
        return builtin_suites(spec)
    path = Path(spec)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml", ".py"))
        if not files:
            raise ScenarioError(f"{spec}: no scenario file (.yaml, .yml, .py) in this folder")
        return [suite for file in files for suite in load_file(file)]
    if path.is_file():
        return load_file(path)
    raise ScenarioError(
        f"--suite {spec}: not csms, cp, a scenario file or a folder of scenario files"
    )
