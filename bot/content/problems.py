"""Problems found in content, worded for the staff who fix them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in one place: `file:line: field: what is wrong and how to fix it`."""

    file: str
    line: int
    field: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        where = f"{self.file}:{self.line}"
        return (
            f"{where}: {self.field}: {prefix}{self.message}"
            if self.field
            else f"{where}: {prefix}{self.message}"
        )


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.ERROR]
