"""Help screens without Python type names.

Typer's rich help prints each parameter's type in a column of its own, spelt as in Python:
``<bool>`` for every flag (``--help`` included) and ``<list[Path]>`` for an argument that
takes several values. :class:`PlainHelpGroup`, the ``kerasbuild`` command group, leaves that
column empty for flags (Typer's own way: an empty metavar) and for arguments that take several
values (their name already ends in ``...``). Options that take a value name it with a metavar
in :mod:`kerasbuild.cli` (``FILE``, ``N``...).
"""

from __future__ import annotations

import typer.core


class PlainHelpGroup(typer.core.TyperGroup):
    """Typer's group whose own and whose commands' parameters show no Python type in help."""

    def get_params(self, ctx):
        return plain_type_labels(super().get_params(ctx))

    def get_command(self, ctx, cmd_name: str):
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            plain_type_labels(command.get_params(ctx))
        return command


def plain_type_labels(params: list) -> list:
    """``params`` (the same objects), each flag given an empty metavar and each argument that
    takes several values no type label."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        elif isinstance(param, typer.core.TyperArgument) and param.nargs != 1:
            param.display_type_rich = _no_type_label
    return params


def _no_type_label(ctx) -> None:
    return None
