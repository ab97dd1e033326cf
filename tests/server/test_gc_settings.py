"""`chat-widget serve` collects garbage less often and never walks what start-up made."""

from __future__ import annotations

import json
import subprocess
import sys

from chat_widget.server.gc_settings import THRESHOLDS


def test_tuning_freezes_start_up_objects_and_sets_the_thresholds() -> None:
    probe = ("import gc, json; from chat_widget.server.gc_settings import "
             "tune_for_many_connections as tune; before = gc.get_threshold(); tune(); "
             "print(json.dumps([before, gc.get_threshold(), gc.get_freeze_count()]))")
    before, after, frozen = json.loads(subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout)
    assert tuple(before) == (700, 10, 10)  # CPython's, untouched until the server asks
    assert tuple(after) == THRESHOLDS
    assert frozen > 0  # the modules imported so far, out of every collection
