"""What a decoded source file's text carries that is encoding, not content: a BOM, CR line ends.

Every reader of sources (the article format, plain text, JSON Lines) drops them the same way.
"""

from __future__ import annotations

BOM = "\ufeff"
"""The byte order mark some editors write at the start of a UTF-8 file."""


def lf_line_ends(text: str) -> str:
    """``text`` with its CRLF and CR line ends written as LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def file_text(text: str) -> str:
    """A whole decoded file without its leading BOM and with LF line ends only."""
    return lf_line_ends(text.removeprefix(BOM))
