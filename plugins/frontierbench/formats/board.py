"""Board definitions: leaderboards/<board>/board.toml.

A board fixes what "better" means: its objectives with directions and practical margins, the
primary metric for rankings, a hypervolume reference point that does not move with the data, and
the regression gates `frontierbench compare` applies.

Where definitions are found is one rule for every command (`find_boards`): `--boards DIR`, else
`leaderboards/` under the current folder; a board with no board.toml there is inferred from the
metrics its cases report (see formats.inference).
"""

from __future__ import annotations

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from frontierbench.formats.gates import parse_gates
from frontierbench.formats.leaderboard import Objective
from frontierbench.formats.names import check_slug
from frontierbench.formats.values import Flag, Number, PositiveCount
from frontierbench.formats.versioned import RecordError, describe_validation_error


class Comparison(BaseModel):
    """A trade-off the board sets out to show: candidate against baseline on some metrics."""

    model_config = ConfigDict(extra="forbid")

    title: str
    baseline: str
    candidate: str
    metrics: list[str]
    claim: str = ""  # what the literature reports, quoted next to what we measured


class Prices(BaseModel):
    """`[prices]`: dollars per hour for each hardware class, and where the prices come from.

    [prices]
    source = "on-demand list prices, provider X, 2026-11"
    "cuda-h100-80gb" = 2.50
    """

    model_config = ConfigDict(extra="allow")

    source: str

    @model_validator(mode="after")
    def _hourly_rates(self) -> Prices:
        for hardware_class, price in (self.model_extra or {}).items():
            if isinstance(price, bool) or not isinstance(price, (int, float)) or not price > 0 or price == float("inf"):
                raise ValueError(f"prices.{hardware_class}: dollars per hour must be a positive number, got {price!r}")
        return self

    @property
    def per_hour_by_class(self) -> dict[str, float]:
        return {k: float(v) for k, v in (self.model_extra or {}).items()}

    def per_hour(self, hardware_class: str) -> float | None:
        return self.per_hour_by_class.get(hardware_class)


class BoardDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    title: str
    description: str = ""
    version: str
    objectives: list[Objective]
    primary: str
    reference_point: dict[str, Number] = Field(default_factory=dict)
    top_k: PositiveCount = 3
    # Inference counts at which full-cycle energy (training + N inferences) is reported.
    usage_intensities: list[PositiveCount] = Field(default_factory=lambda: [1_000, 1_000_000])
    comparisons: list[Comparison] = Field(default_factory=list)
    # metric -> "5%" | "-0.5 points" | "0.002": how much worse `compare` tolerates (formats.gates).
    gates: dict[str, str] = Field(default_factory=dict)
    # True for a board built from the metrics found (no board.toml): no fixed reference point, so
    # no hypervolume; the leaderboard and the site say so.
    inferred: Flag = False
    prices: Prices | None = None  # no prices: no money figures, and no guess

    @field_validator("name")
    @classmethod
    def _slug(cls, name: str) -> str:
        return check_slug(name)

    @model_validator(mode="after")
    def _consistent(self) -> BoardDefinition:
        metrics = [o.metric for o in self.objectives]
        if not metrics:
            raise ValueError("a board needs at least one objective (one gives a ranking, two or more a frontier)")
        if self.primary not in metrics:
            raise ValueError(f"primary {self.primary!r} is not one of the objectives {metrics}")
        missing = [m for m in metrics if m not in self.reference_point]
        if missing and not self.inferred:
            raise ValueError(f"reference_point lacks a value for {missing}")
        return self

    @field_validator("gates")
    @classmethod
    def _gates_parse(cls, gates: dict[str, str]) -> dict[str, str]:
        parse_gates(gates, source="board.toml")
        return gates

    @field_validator("gates", mode="before")
    @classmethod
    def _gates_as_text(cls, gates: object) -> object:
        if isinstance(gates, dict):  # TOML may give 5 or 0.5 for a bare number: keep it as written
            return {k: v if isinstance(v, str) or isinstance(v, bool) else str(v) for k, v in gates.items()}
        return gates

    def objective(self, metric: str) -> Objective:
        return next(o for o in self.objectives if o.metric == metric)


def load_board(path: str | Path) -> BoardDefinition:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise RecordError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise RecordError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise RecordError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise RecordError(f"{path}: not valid TOML: nested too deeply to read") from None
    try:
        return BoardDefinition.model_validate(data)
    except ValidationError as exc:
        raise RecordError(describe_validation_error(exc, str(path))) from exc


def find_boards(boards: str | Path | None = None, *, cwd: str | Path | None = None
                ) -> tuple[dict[str, BoardDefinition], Path | None]:
    """The one rule every command uses: `--boards DIR` if given (it must exist), else
    `leaderboards/` under the current folder if there is one, else none (boards are inferred).

    Returns the definitions by name and the folder they came from (None when there is none).
    """
    if boards is not None:
        root = Path(boards)
        if not root.is_dir():
            raise RecordError(f"--boards {root}: no such directory")
        return load_boards(root), root
    root = Path(cwd or ".") / "leaderboards"
    if root.is_dir():
        return load_boards(root), root
    return {}, None


def load_boards(root: str | Path) -> dict[str, BoardDefinition]:
    """Every leaderboards/<board>/board.toml under root, by board name."""
    boards = {}
    for path in sorted(Path(root).glob("*/board.toml")):
        board = load_board(path)
        if board.name != path.parent.name:
            raise RecordError(f"{path}: field 'name' is {board.name!r} but the folder is {path.parent.name!r}")
        boards[board.name] = board
    return boards
