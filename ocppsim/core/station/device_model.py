"""The device model of an OCPP 2.x charging station: components, variables and their attributes,
and the operations that read and write it (GetVariables, SetVariables, reports).

OCPP 2.0.1 Part 1 §4 defines the model: a *component* (name, optional instance, optional EVSE and
connector) holds *variables* (name, optional instance); a variable has up to four *attributes*
(Actual, Target, MinSet, MaxSet) with a mutability, and *characteristics* (data type, unit,
limits, list of values). Part 2 §B05-B08 say how a station answers GetVariables, SetVariables,
GetBaseReport and GetReport. Values are strings, as on the wire.

A `DeviceModel` is built from a table of `VariableDefinition` rows (see `variables.py`); each
charging station owns one. Sans-I/O: nothing here knows about time or the network.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from rfc3339_validator import validate_rfc3339  # type: ignore[import-untyped]

from ocppsim.core.versions.model import MAX_INTEGER

Payload = dict[str, Any]

DataType = Literal[
    "string",
    "decimal",
    "integer",
    "dateTime",
    "boolean",
    "OptionList",
    "SequenceList",
    "MemberList",
]
Mutability = Literal["ReadOnly", "WriteOnly", "ReadWrite"]
AttributeType = Literal["Actual", "Target", "MinSet", "MaxSet"]
Scope = Literal["station", "evse", "connector"]

#: AttributeEnumType, in the order reports list them (OCPP 2.0.1 Part 2 §3.5).
ATTRIBUTE_TYPES: tuple[AttributeType, ...] = ("Actual", "Target", "MinSet", "MaxSet")
#: ReportBaseEnumType (OCPP 2.0.1 Part 2 §B07).
REPORT_BASES = ("ConfigurationInventory", "FullInventory", "SummaryInventory")
#: ComponentCriterionEnumType (OCPP 2.0.1 Part 2 §B08).
COMPONENT_CRITERIA = ("Active", "Available", "Enabled", "Problem")

#: The characters of a passwordString (OCPP 2.0.1 Part 2 §2.1.5, primitive datatypes).
PASSWORD_STRING = r"[a-zA-Z0-9*\-_=:+|@.]*"

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class Component:
    """A component's address: name, instance, EVSE id and connector id (ComponentType)."""

    name: str
    instance: str | None = None
    evse: int | None = None
    connector: int | None = None

    def to_wire(self) -> Payload:
        """ComponentType as on the wire (absent fields omitted, as 2.x requires)."""
        wire: Payload = {"name": self.name}
        if self.instance is not None:
            wire["instance"] = self.instance
        if self.evse is not None:
            evse: Payload = {"id": self.evse}
            if self.connector is not None:
                evse["connectorId"] = self.connector
            wire["evse"] = evse
        return wire

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> Component:
        """The component a ComponentType names."""
        evse = wire.get("evse")
        if evse is None:
            return cls(wire["name"], wire.get("instance"))
        return cls(wire["name"], wire.get("instance"), evse["id"], evse.get("connectorId"))


@dataclass(frozen=True)
class Variable:
    """A variable's address within its component: name and instance (VariableType)."""

    name: str
    instance: str | None = None

    def to_wire(self) -> Payload:
        """VariableType as on the wire."""
        wire: Payload = {"name": self.name}
        if self.instance is not None:
            wire["instance"] = self.instance
        return wire

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> Variable:
        """The variable a VariableType names."""
        return cls(wire["name"], wire.get("instance"))


@dataclass(frozen=True)
class VariableDefinition:
    """One row of a device model table: a variable of a component, its characteristics, the
    mutability of its attributes and its initial Actual value (None: unset).

    `scope` says where the component lives: once on the station, once per EVSE (component
    addressed with `evse.id`) or once per connector (`evse.id` and `evse.connectorId`).
    For string types `min_limit`/`max_limit` bound the length (OCPP 2.0.1 Part 2 §3.57
    VariableCharacteristicsType); `pattern` further limits a string (passwordString).
    `reboot_required` makes an accepted SetVariables answer RebootRequired.
    """

    component: str
    variable: str
    value: str | None
    data_type: DataType = "string"
    mutability: Mutability = "ReadWrite"
    variable_instance: str | None = None
    component_instance: str | None = None
    unit: str | None = None
    min_limit: float | None = None
    max_limit: float | None = None
    values_list: str | None = None
    pattern: str | None = None
    constant: bool = False
    reboot_required: bool = False
    attributes: tuple[AttributeType, ...] = ("Actual",)
    scope: Scope = "station"

    @property
    def persistent(self) -> bool:
        """Writable variables are persistent (OCPP 2.0.1 Part 2, Referenced Components §2)."""
        return self.mutability != "ReadOnly"

    @property
    def allowed(self) -> tuple[str, ...] | None:
        """The members of `values_list`, or None when any value of the type is allowed."""
        if self.values_list is None:
            return None
        return tuple(item.strip() for item in self.values_list.split(","))


@dataclass(frozen=True, eq=False)
class DeviceVariable:
    """A variable of one component in a model's layout: its address and definition.

    Values are not here: they live in each station's `DeviceModel`, which shares the layout.
    """

    index: int
    component: Component
    variable: Variable
    definition: VariableDefinition

    def characteristics(self) -> Payload:
        """VariableCharacteristicsType of this variable."""
        d = self.definition
        wire: Payload = {"dataType": d.data_type, "supportsMonitoring": False}
        if d.unit is not None:
            wire["unit"] = d.unit
        if d.min_limit is not None:
            wire["minLimit"] = d.min_limit
        if d.max_limit is not None:
            wire["maxLimit"] = d.max_limit
        if d.values_list is not None:
            wire["valuesList"] = d.values_list
        return wire


class Layout:
    """The components and variables of a kind of station, in table order; immutable, so every
    station of that kind shares one (a fleet of ten thousand holds one copy)."""

    def __init__(
        self, definitions: Iterable[VariableDefinition], evses: Mapping[int, Sequence[int]]
    ):
        """Each row once, per EVSE or per connector as its scope says; `evses` maps each
        EVSE id to its connector ids."""
        entries: list[DeviceVariable] = []
        for d in definitions:
            if d.scope == "station":
                places: list[tuple[int | None, int | None]] = [(None, None)]
            elif d.scope == "evse":
                places = [(evse, None) for evse in evses]
            else:
                places = [(evse, c) for evse, connectors in evses.items() for c in connectors]
            for evse, connector in places:
                component = Component(d.component, d.component_instance, evse, connector)
                variable = Variable(d.variable, d.variable_instance)
                entries.append(DeviceVariable(len(entries), component, variable, d))
        self.entries: tuple[DeviceVariable, ...] = tuple(entries)
        self.by_component: dict[Component, dict[Variable, DeviceVariable]] = {}
        for entry in entries:
            self.by_component.setdefault(entry.component, {})[entry.variable] = entry


def check_value(definition: VariableDefinition, value: str) -> tuple[str, str] | None:
    """Why `value` cannot be set on a variable so defined: (reasonCode, explanation), or None
    when it can (OCPP 2.0.1 Part 2 B05.FR.07/08; reason codes from Part 2 Appendix 5)."""
    d = definition
    kind = d.data_type
    number: float | None = None
    if kind == "integer":
        if not _INTEGER.fullmatch(value):
            return "InvalidValue", f"{value!r} is not an integer"
        number = int(value)
        if not -MAX_INTEGER - 1 <= number <= MAX_INTEGER:  # 32 bits (Part 2 §2.1)
            return "ValueTooHigh" if number > 0 else "ValueTooLow", f"{value} is no 32-bit integer"
    elif kind == "decimal":
        if not _DECIMAL.fullmatch(value):
            return "InvalidValue", f"{value!r} is not a decimal number"
        number = float(value)
        if math.isinf(number):  # 1e999
            return "InvalidValue", f"{value!r} is beyond the range of a decimal"
    elif kind == "boolean":
        if value not in ("true", "false"):
            return "InvalidValue", f"{value!r} is not a boolean (true or false)"
    elif kind == "dateTime":
        if not validate_rfc3339(value):
            return "InvalidValue", f"{value!r} is not an RFC 3339 date-time"
    elif kind == "OptionList":
        allowed = d.allowed
        if allowed is not None and value not in allowed:
            return "InvalidValue", f"{value!r} is not one of {d.values_list}"
    elif kind in ("MemberList", "SequenceList"):
        members = [item.strip() for item in value.split(",")] if value else []
        if "" in members:
            return "InvalidValue", f"{value!r} has an empty member"
        if len(set(members)) != len(members):
            return "InvalidValue", f"{value!r} names a member twice"
        allowed = d.allowed
        if allowed is not None:
            unknown = [m for m in members if m not in allowed]
            if unknown:
                return "InvalidValue", f"{unknown[0]!r} is not one of {d.values_list}"
    if number is not None:
        if d.min_limit is not None and number < d.min_limit:
            return "ValueTooLow", f"{value} is below the minimum {_limit(d.min_limit)}"
        if d.max_limit is not None and number > d.max_limit:
            return "ValueTooHigh", f"{value} is above the maximum {_limit(d.max_limit)}"
        return None
    if kind not in ("boolean", "dateTime"):  # strings and lists: the limits bound the length
        if d.min_limit is not None and len(value) < d.min_limit:
            return "ValueTooLow", f"shorter than {_limit(d.min_limit)} characters"
        if d.max_limit is not None and len(value) > d.max_limit:
            return "ValueTooHigh", f"longer than {_limit(d.max_limit)} characters"
    if d.pattern is not None and not re.fullmatch(d.pattern, value):
        return "InvalidValue", "has characters the variable does not allow"
    return None


def _limit(limit: float) -> str:
    """A limit as people write it (16, not 16.0)."""
    return str(int(limit)) if float(limit).is_integer() else str(limit)


def _status_info(reason: str, info: str | None = None) -> Payload:
    """StatusInfoType; additionalInfo bounded to the 2.0.1 length (512)."""
    wire: Payload = {"reasonCode": reason}
    if info:
        wire["additionalInfo"] = info[:512]
    return wire


class DeviceModel:
    """The device model of one charging station: a shared `Layout` and this station's values.

    Only values that differ from the table's are stored, so a station costs a few hundred
    bytes beyond its layout. Lookups are exact, as GetVariables/SetVariables require (OCPP
    2.0.1 B06.FR.14/15): a component or variable without an instance is not the same as one
    with an instance.
    """

    __slots__ = ("layout", "_values")

    def __init__(self, layout: Layout):
        self.layout = layout
        self._values: dict[tuple[int, AttributeType], str | None] = {}

    def __iter__(self) -> Iterator[DeviceVariable]:
        return iter(self.layout.entries)

    def __len__(self) -> int:
        return len(self.layout.entries)

    def components(self) -> list[Component]:
        """Every component of the model, in table order."""
        return list(self.layout.by_component)

    def find(self, component: Component, variable: Variable) -> DeviceVariable | None:
        """The variable at this exact address, or None."""
        return self.layout.by_component.get(component, {}).get(variable)

    def read(self, entry: DeviceVariable, attribute: AttributeType = "Actual") -> str | None:
        """The value of one attribute of a variable (None: unset)."""
        key = (entry.index, attribute)
        if key in self._values:
            return self._values[key]
        return entry.definition.value if attribute == "Actual" else None

    def write(
        self, entry: DeviceVariable, value: str | None, attribute: AttributeType = "Actual"
    ) -> None:
        """Set one attribute of a variable, unchecked; a value equal to the table's is not
        stored."""
        default = entry.definition.value if attribute == "Actual" else None
        if value == default:
            self._values.pop((entry.index, attribute), None)
        else:
            self._values[(entry.index, attribute)] = value

    def entry(
        self,
        component: str,
        variable: str,
        *,
        instance: str | None = None,
        component_instance: str | None = None,
        evse: int | None = None,
        connector: int | None = None,
    ) -> DeviceVariable:
        """The variable so addressed; KeyError names it when the model has no such variable."""
        key = Component(component, component_instance, evse, connector)
        found = self.find(key, Variable(variable, instance))
        if found is None:
            where = f"{component}[{component_instance}]" if component_instance else component
            if evse is not None:
                where += f" (EVSE {evse}" + (f", connector {connector})" if connector else ")")
            name = f"{variable}[{instance}]" if instance else variable
            raise KeyError(f"no variable {name} in {where}")
        return found

    def value(self, component: str, variable: str, **address: Any) -> str | None:
        """The Actual value of a variable (see `entry` for the address)."""
        return self.read(self.entry(component, variable, **address))

    def set_value(
        self,
        component: str,
        variable: str,
        value: str | None,
        *,
        attribute: AttributeType = "Actual",
        **address: Any,
    ) -> None:
        """Set a value from the station itself (no mutability or type check: the station's own
        state, such as AvailabilityState, or a technician's setting)."""
        self.write(self.entry(component, variable, **address), value, attribute)

    def update(self, component: str, variable: str, value: str | None, **address: Any) -> bool:
        """Set the Actual value of a variable the model may lack (a station's own state in a
        model of someone's making); False when it has no such variable."""
        try:
            entry = self.entry(component, variable, **address)
        except KeyError:
            return False
        self.write(entry, value)
        return True

    def integer(self, component: str, variable: str, default: int, **address: Any) -> int:
        """An integer variable's Actual value, or `default` when unset or absent."""
        try:
            value = self.value(component, variable, **address)
        except KeyError:
            return default
        try:  # at most MAX_INTEGER, as a 1.x configuration key's (a boot's interval may be more)
            return min(int(value), MAX_INTEGER) if value is not None else default
        except ValueError:
            return default

    def flag(self, component: str, variable: str, default: bool, **address: Any) -> bool:
        """A boolean variable's Actual value, or `default` when unset or absent."""
        try:
            value = self.value(component, variable, **address)
        except KeyError:
            return default
        return default if value is None else value == "true"

    def members(self, component: str, variable: str, **address: Any) -> list[str]:
        """The members of a list variable's Actual value (empty when unset or absent)."""
        try:
            value = self.value(component, variable, **address)
        except KeyError:
            return []
        return [item.strip() for item in value.split(",") if item.strip()] if value else []

    # --- GetVariables / SetVariables (OCPP 2.0.1 Part 2 §B06, §B05) ---------------------------

    def get_variables(self, data: Sequence[Mapping[str, Any]]) -> list[Payload]:
        """GetVariableResult for each GetVariableData, in order (B06.FR.01-15)."""
        reporting_size = self.integer("DeviceDataCtrlr", "ReportingValueSize", 2500)
        results = []
        for item in data:
            kind = item.get("attributeType", "Actual")
            result: Payload = {
                "attributeType": kind,
                "component": copy.deepcopy(item["component"]),
                "variable": copy.deepcopy(item["variable"]),
            }
            status, entry = self._locate(item, kind)
            info = None
            if entry is not None and entry.definition.mutability == "WriteOnly":
                status, info = "Rejected", _status_info("WriteOnly", "the variable is write-only")
            result["attributeStatus"] = status
            if info is not None:
                result["attributeStatusInfo"] = info
            if status == "Accepted" and entry is not None:
                value = self.read(entry, kind)
                result["attributeValue"] = "" if value is None else value[:reporting_size]
            results.append(result)
        return results

    def set_variables(self, data: Sequence[Mapping[str, Any]]) -> list[Payload]:
        """SetVariableResult for each SetVariableData, in order, setting the accepted values
        (B05.FR.01-12, B10.FR.01 for RebootRequired)."""
        value_size = self.integer("DeviceDataCtrlr", "ConfigurationValueSize", 1000)
        for item in data:  # read every item before setting any: all or nothing
            Component.from_wire(item["component"])
            Variable.from_wire(item["variable"])
            if not isinstance(item["attributeValue"], str):
                raise TypeError("attributeValue must be a string")
        results = []
        for item in data:
            kind = item.get("attributeType", "Actual")
            value = item["attributeValue"]
            result: Payload = {
                "attributeType": kind,
                "component": copy.deepcopy(item["component"]),
                "variable": copy.deepcopy(item["variable"]),
            }
            status, entry = self._locate(item, kind)
            info = None
            if entry is not None:
                problem = (
                    ("ReadOnly", "the variable is read-only")
                    if entry.definition.mutability == "ReadOnly"
                    else ("TooLargeElement", f"longer than ConfigurationValueSize ({value_size})")
                    if len(value) > value_size
                    else check_value(entry.definition, value)
                )
                if problem is not None:
                    status, info = "Rejected", _status_info(*problem)
                else:
                    self.write(entry, value, kind)
                    status = "RebootRequired" if entry.definition.reboot_required else "Accepted"
            result["attributeStatus"] = status
            if info is not None:
                result["attributeStatusInfo"] = info
            results.append(result)
        return results

    def _locate(self, item: Mapping[str, Any], kind: str) -> tuple[str, DeviceVariable | None]:
        """Status of looking up the item's component, variable and attribute type, and the
        variable when all three exist (B06.FR.06-08, B05.FR.04-06)."""
        variables = self.layout.by_component.get(Component.from_wire(item["component"]))
        if variables is None:
            return "UnknownComponent", None
        entry = variables.get(Variable.from_wire(item["variable"]))
        if entry is None:
            return "UnknownVariable", None
        if kind not in entry.definition.attributes:
            return "NotSupportedAttributeType", None
        return "Accepted", entry

    # --- reports (OCPP 2.0.1 Part 2 §B07, §B08) -------------------------------------------------

    def base_report(self, report_base: str) -> list[DeviceVariable]:
        """The variables a GetBaseReport of this base covers (B07.FR.07-09): all of them, those
        an operator can set, or those telling the availability and condition of the station."""
        if report_base == "FullInventory":
            return list(self)
        if report_base == "ConfigurationInventory":
            return [e for e in self if e.definition.mutability != "ReadOnly"]
        if report_base == "SummaryInventory":
            return [e for e in self if _in_summary(e)]
        raise ValueError(f"unknown reportBase {report_base!r}")

    def custom_report(
        self,
        component_variables: Sequence[Mapping[str, Any]] | None,
        criteria: Sequence[str] | None,
    ) -> list[DeviceVariable]:
        """The variables a GetReport selects (B08.FR.05-25): those of components meeting any of
        the criteria, limited to the given component/variable pairs; everything when neither
        is given."""
        selected = []
        wanted = list(component_variables or [])
        for component, variables in self.layout.by_component.items():
            if criteria and not any(self._meets(component, c) for c in criteria):
                continue
            for entry in variables.values():
                if not wanted or any(_matches(entry, cv) for cv in wanted):
                    selected.append(entry)
        return selected

    def _meets(self, component: Component, criterion: str) -> bool:
        """True when the component meets a ComponentCriterion (B08.FR.07-10): its Active,
        Available or Enabled variable is true or absent; its Problem variable is true."""
        entry = self.layout.by_component[component].get(Variable(criterion))
        if entry is None:
            return criterion != "Problem"
        return self.read(entry) == "true"

    def report_data(self, entry: DeviceVariable) -> Payload:
        """ReportDataType of a variable: every attribute it supports, set or not (B07.FR.11),
        with its characteristics (B07.FR.07, B08.FR.12); a WriteOnly value is never shown."""
        d = entry.definition
        attributes = []
        for kind in d.attributes:
            attribute: Payload = {
                "type": kind,
                "mutability": d.mutability,
                "persistent": d.persistent,
                "constant": d.constant,
            }
            if d.mutability != "WriteOnly":
                value = self.read(entry, kind)
                attribute["value"] = "" if value is None else value
            attributes.append(attribute)
        return {
            "component": entry.component.to_wire(),
            "variable": entry.variable.to_wire(),
            "variableAttribute": attributes,
            "variableCharacteristics": entry.characteristics(),
        }

    def report_pages(
        self, request_id: int, generated_at: str, report: Sequence[DeviceVariable], page_size: int
    ) -> list[Payload]:
        """The NotifyReport requests carrying a report: at most `page_size` items each, `seqNo`
        from 0, `tbc` true on every page but the last (OCPP 2.0.1 B07.FR.04/10, B08.FR.14)."""
        size = max(1, page_size)
        chunks = [report[i : i + size] for i in range(0, len(report), size)] or [[]]
        pages = []
        for seq_no, chunk in enumerate(chunks):
            page: Payload = {
                "requestId": request_id,
                "generatedAt": generated_at,
                "seqNo": seq_no,
                "tbc": seq_no < len(chunks) - 1,
            }
            if chunk:
                page["reportData"] = [self.report_data(entry) for entry in chunk]
            pages.append(page)
        return pages


def _in_summary(entry: DeviceVariable) -> bool:
    """True for a variable a SummaryInventory reports: the availability of the station, its
    EVSEs and connectors, and any Problem."""
    if entry.variable.name == "Problem":
        return True
    return entry.component.name in ("ChargingStation", "EVSE", "Connector") and (
        entry.variable.name in ("AvailabilityState", "Available")
    )


def _matches(entry: DeviceVariable, component_variable: Mapping[str, Any]) -> bool:
    """True when a variable is one a ComponentVariableType asks for (B08.FR.20-25): an absent
    instance, EVSE, connector or variable stands for every one."""
    want = component_variable["component"]
    c = entry.component
    if want["name"] != c.name:
        return False
    if "instance" in want and want["instance"] != c.instance:
        return False
    evse = want.get("evse")
    if evse is not None:
        if evse["id"] != c.evse:
            return False
        if "connectorId" in evse and evse["connectorId"] != c.connector:
            return False
    variable = component_variable.get("variable")
    if variable is None:
        return True
    if variable["name"] != entry.variable.name:
        return False
    return "instance" not in variable or variable["instance"] == entry.variable.instance
