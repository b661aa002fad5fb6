"""Which exceptions are a person's mistake (shown as a message) rather than a bug (a traceback).
Each layer's user-facing error derives from ValueError with a message written for people; they are
listed here so the CLI and the GUI treat them alike."""
from __future__ import annotations


def user_error_types() -> tuple[type, ...]:
    from .core.compiler import CompileError
    from .core.graph import GraphError
    from .core.project import ProjectError
    from .core.spec import ParamError
    from .core.weights import WeightsError

    types: list[type] = [CompileError, GraphError, ProjectError, ParamError, WeightsError]
    for module, name in (("studio.training.errors", "TrainingError"), ("studio.export.errors", "ExportError")):
        try:
            mod = __import__(module, fromlist=[name])
            types.append(getattr(mod, name))
        except (ImportError, AttributeError):
            pass
    return tuple(types)


def is_user_error(exc: BaseException) -> bool:
    return isinstance(exc, user_error_types())
