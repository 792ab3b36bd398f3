"""Reading `fp8kit tune` journals (<save>/.fp8kit-tune-state/*.jsonl) for the refit scripts."""
import glob
import json


def measured_candidates(journal):
    """(n, k, entry) for every measured candidate or default of every journal file in `journal`:
    entries with a time and a config (failed candidates, the leaders' rechecks and session lines are
    skipped: one measurement per config, as the search first saw it)."""
    for path in sorted(glob.glob(f"{journal}/*.jsonl")):
        n = int(path.split("N=")[1].split(",")[0])
        k = int(path.split("K=")[1].split(",")[0])
        for line in open(path):
            d = json.loads(line)
            if d.get("kind") in ("candidate", "default") and d.get("us") and d.get("config"):
                yield n, k, d
