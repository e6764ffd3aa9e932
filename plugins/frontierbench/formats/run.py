"""The run record: one versioned JSON file per pytest session (schema "frontierbench.run/1").

Loading validates; a future schema version or a malformed file is an error that names the file
and the field at fault. Older versions pass through registered migrations first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_serializer, model_validator

from frontierbench.formats.atomic import write_json_atomic
from frontierbench.formats.metrics import STANDARD
from frontierbench.formats.values import (
    COST_UNITS,
    Count,
    Flag,
    JsonObject,
    NonNegative,
    Number,
    OpenModel,
    PositiveCount,
    Samples,
    Timestamp,
    check_cost,
)
from frontierbench.formats.versioned import FutureSchemaError as FutureSchemaError  # raised by load_run
from frontierbench.formats.versioned import (
    Migration,
    RecordError,
    describe_validation_error,
    load_validated,
    migrate,
    schema_version,
)

RUN_SCHEMA_NAME = "frontierbench.run"
RUN_SCHEMA_VERSION = 1
RUN_SCHEMA = f"{RUN_SCHEMA_NAME}/{RUN_SCHEMA_VERSION}"

# The standard per-call metrics and their units (the registry, formats/metrics.py, says what they mean).
STANDARD_UNITS = {name: spec.unit for name, spec in STANDARD.items() if spec.per_call and spec.kind != "quality"}


OMITTED_WHEN_NONE = ("process", "cut_short")


class Provenance(OpenModel):
    """How a number was obtained and what it covers. Meters add their own fields."""

    method: str
    covers: str | None = None


class Metric(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Number | None
    unit: str
    higher_is_better: Flag
    samples: Samples | None = None
    provenance: Provenance

    @model_validator(mode="after")
    def _costs_not_negative(self) -> Metric:
        if not self.higher_is_better and self.unit in COST_UNITS:
            check_cost(self.unit, (("value", self.value), ("samples", self.samples)))
        return self


class Case(OpenModel):
    nodeid: str
    board: str | None = None
    entry: str
    family: str | None = None
    params: JsonObject = Field(default_factory=dict)
    outcome: Literal["passed", "failed", "skipped", "error"]
    device: str = "cpu"
    hardware_class: str | None = None
    items: PositiveCount | None = None
    duration: NonNegative | None = None
    error: str | None = None
    metrics: dict[str, Metric] = Field(default_factory=dict)
    # The worker process that ran this case (0, 1, ... with --frontier-processes), so statistics
    # can tell variation between processes from variation within one.
    process: Count | None = None
    # True for a case that never finished: the process died or was interrupted during it.
    cut_short: Flag | None = None

    @model_serializer(mode="wrap")
    def _omit_absent_optional_fields(self, handler: Any) -> dict[str, Any]:
        # process and cut_short are written only when they say something, so a record of a run
        # without workers or deaths is byte for byte what it was before they existed.
        data = handler(self)
        for key in OMITTED_WHEN_NONE:
            if data.get(key) is None:
                data.pop(key, None)
        return data


class Environment(OpenModel):
    """The fingerprint: collectors add their own fields (see environment.py)."""

    hardware_class: str


class RunRecord(BaseModel):
    schema_: str = Field(RUN_SCHEMA, alias="schema")
    run_id: str
    started_at: Timestamp
    finished_at: Timestamp | None = None
    # complete; interrupted (Ctrl-C, SIGTERM, pytest.exit); crashed (recovered from the journal
    # of a process that died)
    status: Literal["complete", "interrupted", "crashed"]
    environment: Environment
    config: JsonObject = Field(default_factory=dict)
    cases: list[Case]  # required: a record that lost its cases is not an empty run

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


RUN_MIGRATIONS: dict[int, Migration] = {}


def register_run_migration(from_version: int) -> Callable[[Migration], Migration]:
    """Decorator: register the step that upgrades a run record from `from_version`."""

    def decorate(migrate: Migration) -> Migration:
        RUN_MIGRATIONS[from_version] = migrate
        return migrate

    return decorate


def parse_run(data: Any, source: str = "<run record>") -> RunRecord:
    version = schema_version(data, expected_name=RUN_SCHEMA_NAME, source=source)
    data = migrate(data, version=version, current=RUN_SCHEMA_VERSION, migrations=RUN_MIGRATIONS,
                   name=RUN_SCHEMA_NAME, source=source)
    try:
        return RunRecord.model_validate(data)
    except ValidationError as exc:
        raise RecordError(describe_validation_error(exc, source)) from exc


def load_run(path: str | Path) -> RunRecord:
    return load_validated(path, RunRecord, RUN_SCHEMA, parse_run)


def save_run(record: RunRecord, path: str | Path) -> Path:
    return write_json_atomic(Path(path), record.to_json_dict())


def run_json_schema() -> dict[str, Any]:
    schema = RunRecord.model_json_schema(by_alias=True)
    schema["$id"] = RUN_SCHEMA
    schema["title"] = "frontierbench run record"
    return schema
