"""Pure functions from raw message bytes to structured results (no database, no network).

`read_message` reads what a message is and says; `interpret` reads it on a survey's scale;
`parse` does both and returns the dict the `mailflow parse` CLI prints.
"""

from parsers.contract import parse
from parsers.interpret import interpret
from parsers.read import read_message

__all__ = ["interpret", "parse", "read_message"]
