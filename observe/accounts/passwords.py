"""The common passwords a new password is checked against.

The list is zxcvbn's (Dropbox's password strength estimator, MIT licence): the 30,000 most
frequent passwords of a public corpus of leaked passwords, most frequent first. It is loaded on
the first check only, since signing in never needs it. A password is common when it is on the
list, or is a listed word of four or more letters with only digits and symbols around it
("Sunshine2026!"): that is the first variation an attacker's tools try.
"""

from __future__ import annotations

import functools
import re

_DECORATION = re.compile(r"^[\d\W_]*(.*?)[\d\W_]*$", re.DOTALL)


@functools.cache
def _common() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    """Whether ``password`` (lower-cased) is a common password or one dressed in digits."""
    common = _common()
    if password in common:
        return True
    decorated = _DECORATION.match(password)  # always matches: every part may be empty
    core = decorated.group(1) if decorated else password
    return len(core) >= 4 and core != password and core in common
