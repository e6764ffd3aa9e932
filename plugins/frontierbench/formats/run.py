"""The run record: one versioned JSON file per pytest session (schema "frontierbench.run/1").

Loading validates; a future schema version or a malformed file is an error that names the file
and the field at fault. Older versions pass through registered migrations first.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_serializer

from frontierbench.formats.atomic import write_json_atomic
from frontierbench.formats.metrics import STANDARD

RUN_SCHEMA_NAME = "frontierbench.run"
RUN_SCHEMA_VERSION = 1
RUN_SCHEMA = f"{RUN_SCHEMA_NAME}/{RUN_SCHEMA_VERSION}"

# The standard per-call metrics and their units (the registry, formats/metrics.py, says what they mean).
STANDARD_UNITS = {name: spec.unit for name, spec in STANDARD.items() if spec.per_call and spec.kind != "quality"}


OMITTED_WHEN_NONE = ("process",)


class RecordError(ValueError):
    """A record file is malformed; the message names the file and the field."""


class FutureSchemaError(RecordError):
    """The file was written by a newer frontierbench than this one."""


class Provenance(BaseModel):
    """How a number was obtained and what it covers. Meters add their own fields."""

    model_config = ConfigDict(extra="allow")

    method: str
    covers: str | None = None


class Metric(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: float | None
    unit: str
    higher_is_better: bool
    samples: list[float] | None = None
    provenance: Provenance

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError(f"must be finite, got {value!r}")
        return value

    @field_validator("samples")
    @classmethod
    def _finite_samples(cls, samples: list[float] | None) -> list[float] | None:
        if samples is not None:
            bad = [s for s in samples if not math.isfinite(s)]
            if bad:
                raise ValueError(f"samples must be finite, got {bad[0]!r}")
        return samples


class Case(BaseModel):
    model_config = ConfigDict(extra="allow")

    nodeid: str
    board: str | None = None
    entry: str
    family: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    outcome: Literal["passed", "failed", "skipped", "error"]
    device: str = "cpu"
    hardware_class: str | None = None
    items: int | None = None
    duration: float | None = None
    error: str | None = None
    metrics: dict[str, Metric] = Field(default_factory=dict)
    # The worker process that ran this case (0, 1, ... with --frontier-processes), so statistics
    # can tell variation between processes from variation within one.
    process: int | None = None

    @model_serializer(mode="wrap")
    def _omit_absent_optional_fields(self, handler: Any) -> dict[str, Any]:
        # process is written only when it says something, so a record of a run without workers
        # is byte for byte what it was before it existed.
        data = handler(self)
        for key in OMITTED_WHEN_NONE:
            if data.get(key) is None:
                data.pop(key, None)
        return data


class Environment(BaseModel):
    """The fingerprint: collectors add their own fields (see environment.py)."""

    model_config = ConfigDict(extra="allow")

    hardware_class: str


class RunRecord(BaseModel):
    schema_: str = Field(RUN_SCHEMA, alias="schema")
    run_id: str
    started_at: str
    finished_at: str | None = None
    status: Literal["complete", "interrupted"]
    environment: Environment
    config: dict[str, Any] = Field(default_factory=dict)
    cases: list[Case] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


# Migrations take the raw dict of version N and return the raw dict of version N + 1.
Migration = Callable[[dict[str, Any]], dict[str, Any]]
RUN_MIGRATIONS: dict[int, Migration] = {}


def register_run_migration(from_version: int) -> Callable[[Migration], Migration]:
    """Decorator: register the step that upgrades a run record from `from_version`."""

    def decorate(migrate: Migration) -> Migration:
        RUN_MIGRATIONS[from_version] = migrate
        return migrate

    return decorate


def schema_version(data: Any, *, expected_name: str, source: str) -> int:
    """Read "name/N" from data["schema"], or raise a RecordError naming the source."""
    if not isinstance(data, dict):
        raise RecordError(f"{source}: expected a JSON object at the top level")
    schema = data.get("schema")
    if not isinstance(schema, str) or "/" not in schema:
        raise RecordError(f"{source}: field 'schema' is missing or not of the form '{expected_name}/N'")
    name, _, version = schema.rpartition("/")
    if name != expected_name or not version.isdigit():
        raise RecordError(f"{source}: field 'schema' is {schema!r}, expected '{expected_name}/N'")
    return int(version)


def migrate(data: dict[str, Any], *, version: int, current: int, migrations: dict[int, Migration],
            name: str, source: str) -> dict[str, Any]:
    if version > current:
        raise FutureSchemaError(
            f"{source}: field 'schema' is '{name}/{version}', newer than this frontierbench "
            f"understands ('{name}/{current}'); upgrade frontierbench to read it"
        )
    while version < current:
        step = migrations.get(version)
        if step is None:
            raise RecordError(f"{source}: no migration from '{name}/{version}' to '{name}/{current}'")
        data = step(data)
        version += 1
        data["schema"] = f"{name}/{version}"
    return data


def describe_validation_error(error: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid {error.title}"]
    for item in error.errors()[:10]:
        where = ".".join(str(part) for part in item["loc"]) or "<top>"
        lines.append(f"  field '{where}': {item['msg']}")
    return "\n".join(lines)


def read_json(path: Path) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RecordError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc


def parse_run(data: Any, source: str = "<run record>") -> RunRecord:
    version = schema_version(data, expected_name=RUN_SCHEMA_NAME, source=source)
    data = migrate(data, version=version, current=RUN_SCHEMA_VERSION, migrations=RUN_MIGRATIONS,
                   name=RUN_SCHEMA_NAME, source=source)
    try:
        return RunRecord.model_validate(data)
    except ValidationError as exc:
        raise RecordError(describe_validation_error(exc, source)) from exc


def validate_current(raw: bytes, model: type[BaseModel], current_schema: str) -> Any:
    """The file's model, parsed straight from bytes by pydantic (about 2x faster than json.loads
    + validation), if it is valid and of the current schema; else None."""
    try:
        loaded = model.model_validate_json(raw)
    except ValidationError:
        return None
    # The file must say its schema itself: the model's default would accept a file that does not.
    if "schema_" in loaded.model_fields_set and loaded.schema_ == current_schema:
        return loaded
    return None


def load_validated(path: str | Path, model: type[BaseModel], current_schema: str,
                   parse: Callable[[Any, str], BaseModel]) -> Any:
    """Load a file of the current schema on the fast path; anything else (an older version to
    migrate, a future version, a malformed file) takes `parse`, which names the file and field."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RecordError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return validate_current(raw, model, current_schema) or parse(read_json(path), str(path))


def load_run(path: str | Path) -> RunRecord:
    return load_validated(path, RunRecord, RUN_SCHEMA, parse_run)


def save_run(record: RunRecord, path: str | Path) -> Path:
    return write_json_atomic(Path(path), record.to_json_dict())


def run_json_schema() -> dict[str, Any]:
    schema = RunRecord.model_json_schema(by_alias=True)
    schema["$id"] = RUN_SCHEMA
    schema["title"] = "frontierbench run record"
    return schema
