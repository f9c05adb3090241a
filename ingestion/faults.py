"""Named moments a crash test stops a load at, so that its `kill -9` lands where it means to.

With LUMBUNG_PAUSE_AT=<point> in its environment, a process reaching that point writes the
point's name to LUMBUNG_PAUSE_FILE and waits, up to ten minutes, while that file exists: the
test kills it there, or (having stopped the warehouse, say) deletes the file to let it go on.
Without LUMBUNG_PAUSE_AT, `pause_point` does nothing. The points of a load, in order:
  reading        the file is parsed, nothing is in the warehouse yet
  copy           the COPY has sent rows into raw, uncommitted
  before_commit  rows, quarantine, audit and validation written, the transaction still open
  after_commit   the load committed, its inbox file not yet filed away
"""

from __future__ import annotations

import os
import time
from pathlib import Path

POINTS = ("reading", "copy", "before_commit", "after_commit")
WAIT_S = 600


def pause_point(name: str) -> None:
    if os.environ.get("LUMBUNG_PAUSE_AT") != name:
        return
    marker = Path(os.environ["LUMBUNG_PAUSE_FILE"])
    marker.write_text(f"{name} {os.getpid()}\n", encoding="utf-8")
    deadline = time.monotonic() + WAIT_S
    while marker.exists() and time.monotonic() < deadline:  # the test's kill -9 lands here
        time.sleep(0.05)
