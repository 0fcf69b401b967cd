"""Where a figure comes from, reduced to what an officer must know before paying it: `source` (the
instrument or a national rule states it), `decided` (a later official document of the district fixed
it) or `assumed` (our default where the text is silent). A total is only as firm as its weakest part:
one assumed amount inside it makes the total assumed."""
from __future__ import annotations

from typing import Iterable, Optional

# Weakest first: a combination takes the first kind present in this order.
_WEAKEST_FIRST = ("assumed", "decided", "source")


def combined_basis(kinds: Iterable[Optional[str]]) -> Optional[str]:
    """The basis of a sum of figures of these kinds (None where nothing was summed)."""
    present = {k for k in kinds if k}
    return next((k for k in _WEAKEST_FIRST if k in present), None)

