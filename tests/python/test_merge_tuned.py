"""scripts/merge_tuned.py: a tune of some batch sizes merged into a folder of tuned files keeps the
folder's other entries, their history and the folder's device note."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "merge_tuned.py"


def tuned_file(entries: dict[int, str], git: str, date: str, **versions) -> dict:
    per = {str(m): {"best_tflops": 1.0, "candidates_tried": 3, "candidates_failed": 1} for m in entries}
    out = {str(m): {"kernel_name": name} for m, name in entries.items()}
    out["metadata"] = {"date": date, "time_spent_s": 10.0, "candidates_tried": 0, "candidates_failed": 0,
                       "versions": {"git": git, **versions}, "per_batch_size": per}
    return out


def test_new_batch_sizes_replace_and_old_ones_keep_their_history_and_device_note(tmp_path):
    name = "fp8kit_w8a8_block128x128_N=2112,K=7168,out=bfloat16,device=GPU.json"
    (tmp_path / "new").mkdir()
    (tmp_path / "into").mkdir()
    old = tuned_file({1: "old1", 16: "old16", 512: "old512"}, "aaa", "2026-12-05", timing="cold up to M = 64",
                     earlier_tune="git zzz on 2026-12-04 at M=512", device_note="configs of another GPU")
    new = tuned_file({1: "new1", 16: "new16"}, "bbb", "2026-12-07", timing="cold up to M = 64")
    (tmp_path / "into" / name).write_text(json.dumps(old))
    (tmp_path / "new" / name).write_text(json.dumps(new))
    subprocess.run([sys.executable, SCRIPT, tmp_path / "new", tmp_path / "into"], check=True, capture_output=True)
    merged = json.loads((tmp_path / "into" / name).read_text())
    assert [merged[m]["kernel_name"] for m in ("1", "16", "512")] == ["new1", "new16", "old512"]
    versions = merged["metadata"]["versions"]
    assert versions["git"] == "bbb"
    assert versions["earlier_tune"] == ("git aaa on 2026-12-05 at M=512 (cold up to M = 64); "
                                        "before that git zzz on 2026-12-04 at M=512")
    assert versions["device_note"] == "configs of another GPU"
    assert merged["metadata"]["time_spent_s"] == 20.0
    assert merged["metadata"]["candidates_tried"] == 9
    assert merged["metadata"]["candidates_failed"] == 3
