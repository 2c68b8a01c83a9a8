"""`cxtext --help` and every subcommand's help say what the source says."""

from __future__ import annotations

import re

import typer

from cxtext.cli import app

# The help is rendered as Markdown, which drops anything shaped like an HTML tag: a
# default written "eval-<data file>.json" read "eval-.json".
_TAG = re.compile(r"<[A-Za-z/][^>]*>")


def _commands(command, path: str = "cxtext"):
    yield path, command
    if hasattr(command, "commands"):  # a group (Typer's own click, not the click package)
        for name, sub in command.commands.items():
            yield from _commands(sub, f"{path} {name}")


def test_no_help_text_holds_a_tag_markdown_would_drop():
    dropped = []
    commands = dict(_commands(typer.main.get_command(app)))
    assert {"cxtext evaluate", "cxtext models promote", "cxtext themes show"} <= set(commands)
    for path, command in commands.items():
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        dropped += [f"{path}: {m}" for text in texts for m in _TAG.findall(text)]
    assert dropped == []
