"""Problems found in a collection, each pinned to a file, a line (or CSV row) and a field."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Issue:
    file: str
    line: int | None
    field: str
    message: str
    severity: str = "error"  # "error" (the record is left out) | "warning" (it still builds)
    record: str | None = None  # the object / tour / exhibit id when known

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.field}: {self.message}"

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.file, "line": self.line, "field": self.field,
            "message": self.message, "severity": self.severity, "record": self.record,
        }


@dataclass
class IssueList:
    items: list[Issue] = field(default_factory=list)

    def add(self, issue: Issue) -> None:
        self.items.append(issue)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.items if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.items if i.severity == "warning"]
