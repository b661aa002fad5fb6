"""Problems found in a graph: each names the node (or edge) and says how to fix it."""
from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


class CompileError(ValueError):
    """The graph has errors; `problems` lists them, each naming its node (studio.core.compiler's)."""

    def __init__(self, problems: list["Problem"]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.line() for p in problems) or "the graph does not compile")


@dataclass(frozen=True)
class Problem:
    severity: str  # "error" or "warning"
    message: str  # whole sentence, starting with "<Type> '<id>'" where a node is concerned
    node_id: str | None = None
    field: str | None = None  # param name, when one param is at fault

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def line(self) -> str:
        """One line for the terminal: `node-id: message`."""
        where = self.node_id or "graph"
        return f"{where}: {self.severity}: {self.message}"

    def to_json(self) -> dict:
        return {"severity": self.severity, "node": self.node_id, "field": self.field,
                "message": self.message}
