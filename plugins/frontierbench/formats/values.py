"""The value types every file format is checked with, where a value enters.

Numbers are strict: `"0.5"` and `true` are not numbers, `32.0` is not a count. They must be finite
and at most LARGEST in magnitude: no measurement comes near it, and sums of numbers beyond it
overflow to infinity, which JSON cannot hold (a product of two bounded numbers can still overflow:
aggregate refuses such a result with an error naming its inputs). Counts of items are positive.
Timestamps are ISO 8601. A cost (a time, memory, energy, power or carbon figure where lower is
better) is never negative.

Free-form JSON (params, config, provenance, extra fields) is checked by `find_unrecordable`: plain
JSON that frontierbench can write back, i.e. finite numbers, text that is valid Unicode, and
nesting no deeper than MAX_DEPTH.

All checks run inside pydantic-core (Strict, AllowInfNan, Ge/Le) where they can, so a leaderboard
of a million samples is not checked one Python call at a time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AllowInfNan,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    ValidationError,
)
from typing_extensions import TypeAliasType

LARGEST = 1e300
MAX_DEPTH = 64  # free-form JSON nested deeper than this is no configuration or provenance

# Units of amounts that cannot be negative (time, memory, energy, power, carbon).
COST_UNITS = frozenset({"s", "ms", "B", "J", "W", "gCO2e"})

Number = Annotated[float, Strict(), AllowInfNan(False), Field(ge=-LARGEST, le=LARGEST)]
NonNegative = Annotated[float, Strict(), AllowInfNan(False), Field(ge=0, le=LARGEST)]
Fraction = Annotated[float, Strict(), AllowInfNan(False), Field(ge=0, le=1)]
Count = Annotated[int, Strict(), Field(ge=0)]
PositiveCount = Annotated[int, Strict(), Field(gt=0)]
Flag = Annotated[bool, Strict()]
Samples = Annotated[list[Number], Field(min_length=1)]  # absent is None, never an empty list


def check_timestamp(text: str) -> str:
    """An ISO 8601 date or date-time ("2024-01-01T00:00:00+00:00"); kept as written."""
    try:
        datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise ValueError(f"must be an ISO 8601 date-time such as 2024-01-01T00:00:00+00:00, got {text!r}") from None
    return text


Timestamp = Annotated[str, AfterValidator(check_timestamp)]


def check_cost(unit: str, values: Iterable[tuple[str, Any]]) -> None:
    """A cost (lower is better, in a unit of COST_UNITS) is never negative: raise naming the field."""
    for field, value in values:
        if value is None or (isinstance(value, list) and not value):
            continue
        lowest = min(value) if isinstance(value, list) else value
        if isinstance(lowest, (int, float)) and lowest < 0:
            where = f"{field}.{value.index(lowest)}" if isinstance(value, list) else field
            raise ValueError(f"field '{where}': a cost in {unit} cannot be negative, got {lowest!r}")


def find_unrecordable(data: Any, depth_limit: int = MAX_DEPTH) -> tuple[str, str] | None:
    """The first value that is not plain, writable JSON, as (dotted path, problem); else None.

    Iterative, so a document nested thousands deep is reported, not a RecursionError.
    """
    stack: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if len(path) > depth_limit:
            return _dotted(path), f"nested deeper than {depth_limit} levels"
        if isinstance(value, float):
            if not math.isfinite(value):
                return _dotted(path), f"must be a finite number, got {value!r}"
        elif isinstance(value, str):
            if not _is_unicode(value):
                return _dotted(path), f"not valid Unicode text (a lone surrogate): {value!r}"
        elif isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str) or not _is_unicode(key):
                    return _dotted(path), f"key {key!r} is not valid Unicode text"
                stack.append((item, (*path, key)))
        elif isinstance(value, (list, tuple)):
            stack.extend((item, (*path, i)) for i, item in enumerate(value))
        elif value is not None and not isinstance(value, (bool, int)):
            return _dotted(path), f"not a JSON value: {type(value).__name__}"
    return None


# Free-form JSON checked inside pydantic-core: ints stay ints, floats must be finite Numbers.
# Left to right, most common first: a string stops at the first branch.
JsonValue = TypeAliasType("JsonValue", Annotated[
    str | None | Flag | Annotated[int, Strict()] | Number | list["JsonValue"] | dict[str, "JsonValue"],
    Field(union_mode="left_to_right")])
JsonObject = dict[str, JsonValue]


# The names pydantic gives JsonValue's branches in an error's path (asked of pydantic, which
# derives them from the union).
def _json_value_branches() -> frozenset[str]:
    try:
        TypeAdapter(JsonValue).validate_python(float("nan"))
    except ValidationError as exc:
        return frozenset(str(item["loc"][0]) for item in exc.errors() if item["loc"])
    return frozenset()


_JSON_VALUE_BRANCHES = _json_value_branches()


def _is_unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in path)


def describe_problems(errors: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(field path, message) per pydantic error. A free-form value that is not plain JSON fails
    every branch of JsonValue: those errors become one, at the deepest path, without branch names."""
    described: list[tuple[str, str]] = []
    json_paths: dict[tuple, Any] = {}
    for item in errors:
        loc = tuple(item["loc"])
        if any(part in _JSON_VALUE_BRANCHES for part in loc if isinstance(part, str)):
            path = tuple(part for part in loc if not (isinstance(part, str) and part in _JSON_VALUE_BRANCHES))
            json_paths.setdefault(path, item.get("input"))
        else:
            described.append(describe_problem(item))
    for path, value in json_paths.items():
        if any(other[:len(path)] == path and len(other) > len(path) for other in json_paths):
            continue  # a deeper path says which value inside this one is at fault
        described.append((".".join(str(part) for part in path) or "<top>",
                          f"must be plain JSON (a finite number within ±{LARGEST:g}, text, true, false, "
                          f"null, a list or an object), got {value!r:.80}"))
    return described


# The tags of unions whose branch is chosen by the value's own shape (a callable Discriminator):
# pydantic puts the tag in an error's path, which names the field without it.
BRANCH_TAGS = frozenset({"(as points)", "(as a table)"})


def describe_problem(item: dict[str, Any]) -> tuple[str, str]:
    """(field path, message) for one pydantic error, in this module's words: a validator that
    names a field inside the value ("field 'samples.0': ...") extends the path, and the bound on
    magnitudes reads as a bound, not as a 301-digit number."""
    where = ".".join(str(part) for part in item["loc"] if part not in BRANCH_TAGS)
    message = item["msg"].removeprefix("Value error, ")
    inner = _INNER_FIELD.match(message)
    if inner:
        where = f"{where}.{inner[1]}" if where else inner[1]
        message = inner[2]
    elif item["type"] in ("less_than_equal", "greater_than_equal") and \
            abs(float((item.get("ctx") or {}).get("le", (item.get("ctx") or {}).get("ge", 0)))) == LARGEST:
        message = (f"must be between -{LARGEST:g} and {LARGEST:g}: no measurement is this large, "
                   f"and aggregating it would overflow; got {item['input']!r}")
    elif item["type"] in _SHOW_INPUT and not isinstance(item.get("input"), (dict, list)):
        message = f"{message}, got {item.get('input')!r:.80}"
    return where or "<top>", message


_INNER_FIELD = re.compile(r"field '([^']*)': (.*)", re.DOTALL)
_SHOW_INPUT = frozenset({"float_type", "int_type", "bool_type", "string_type", "finite_number", "greater_than",
                         "greater_than_equal", "less_than_equal", "int_from_float", "literal_error"})


class OpenModel(BaseModel):
    """A model that keeps fields it does not declare (meters and collectors add their own), as
    long as they are plain JSON."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, JsonValue] = Field(init=False)
