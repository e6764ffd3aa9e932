"""Reading versioned JSON files: the "schema": "name/N" field, migrations from older versions, and
errors that name the file and the field at fault. Run records and leaderboards both read this way.

Also what kind a JSON file is (`file_kind`): a frontierbench file by its schema name, or a
pytest-benchmark `--benchmark-json` file by its keys.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ValidationError

from frontierbench.formats.values import describe_problems, find_unrecordable

PYTEST_BENCHMARK = "pytest-benchmark"


class RecordError(ValueError):
    """A record file is malformed; the message names the file and the field."""


class FutureSchemaError(RecordError):
    """The file was written by a newer frontierbench than this one."""


# Migrations take the raw dict of version N and return the raw dict of version N + 1.
Migration = Callable[[dict[str, Any]], dict[str, Any]]


def read_bytes(path: str | Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise RecordError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def decode_json(raw: bytes, source: str) -> Any:
    """JSON from bytes, refused with a RecordError naming the source (and the field, where there
    is one) unless it is UTF-8, well formed, and plain JSON that can be written back."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RecordError(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"{source}: not valid JSON, perhaps truncated "
                          f"(line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise RecordError(f"{source}: not valid JSON: nested too deeply to read") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise RecordError(f"{source}: not valid JSON: {exc}") from None
    problem = find_unrecordable(data)
    if problem is not None:
        where, what = problem
        raise RecordError(f"{source}: field '{where or '<top>'}': {what}")
    return data


def read_json(path: str | Path) -> Any:
    return decode_json(read_bytes(path), str(path))


def is_pytest_benchmark(data: Any) -> bool:
    return isinstance(data, dict) and "schema" not in data and "machine_info" in data and "benchmarks" in data


def schema_name(data: Any) -> str | None:
    """"frontierbench.run" for a file whose schema is "frontierbench.run/1"; None without a schema."""
    schema = data.get("schema") if isinstance(data, dict) else None
    if not isinstance(schema, str) or "/" not in schema:
        return None
    return schema.rpartition("/")[0]


def file_kind(data: Any) -> str | None:
    """The schema name of a frontierbench file, PYTEST_BENCHMARK for a pytest-benchmark file, else None."""
    return PYTEST_BENCHMARK if is_pytest_benchmark(data) else schema_name(data)


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
    """One line per problem (at most ten), the first as "<source>: field '<path>': <problem>"."""
    problems = describe_problems(error.errors())[:10]
    lines = [f"{source}: field '{where}': {message}" for where, message in problems[:1]]
    lines += [f"  field '{where}': {message}" for where, message in problems[1:]]
    return "\n".join(lines)


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
    raw = read_bytes(path)
    return validate_current(raw, model, current_schema) or parse(decode_json(raw, str(path)), str(path))
