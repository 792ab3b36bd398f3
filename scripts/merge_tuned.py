#!/usr/bin/env python3
"""Merges a tune of some batch sizes into a folder of `fp8kit tune` files: for each (N, K, out,
device) file of NEW, the same file of INTO takes NEW's batch sizes (config and per-batch record)
and keeps its own other batch sizes. The merged metadata is NEW's (versions, date, device UUID),
with versions.earlier_tune naming the git revision, date, batch sizes and timing of the entries kept
(then their own earlier_tune) and INTO's versions.device_note kept, and the time and candidate
counts summed. Files of NEW that INTO lacks are copied. Usage:
  merge_tuned.py NEW INTO      (INTO is rewritten in place; each file atomically)
"""
import glob
import json
import os
import sys


def merge(new, old):
    kept = sorted((int(m) for m in old if m != "metadata" and m not in new), key=int)
    out = {str(m): v for m, v in sorted(((int(m), v) for m, v in new.items() if m != "metadata"))}
    for m in kept:
        out[str(m)] = old[str(m)]
    out = {str(m): out[str(m)] for m in sorted(map(int, out))}
    meta = dict(new["metadata"])
    old_meta = old["metadata"]
    per = dict(meta["per_batch_size"])
    for m in kept:
        per[str(m)] = old_meta["per_batch_size"][str(m)]
    meta["per_batch_size"] = {str(m): per[str(m)] for m in sorted(map(int, per))}
    if kept:
        meta["versions"] = dict(meta["versions"])
        # how the kept entries were timed goes with them (a decode tune's "cold up to M = 64")
        timing = old_meta["versions"].get("timing")
        meta["versions"]["earlier_tune"] = (f"git {old_meta['versions'].get('git', '?')} on {old_meta['date']} "
                                            f"at M={','.join(map(str, kept))}" + (f" ({timing})" if timing else ""))
        if "earlier_tune" in old_meta["versions"]:  # the kept entries' own history (some are older still)
            meta["versions"]["earlier_tune"] += "; before that " + old_meta["versions"]["earlier_tune"]
        # where INTO's entries came from (a folder carried over from another GPU): a tune never
        # writes one, so it would be lost with the kept entries still in the file (session 40)
        if "device_note" in old_meta["versions"] and "device_note" not in meta["versions"]:
            meta["versions"]["device_note"] = old_meta["versions"]["device_note"]
        meta["time_spent_s"] = meta["time_spent_s"] + old_meta["time_spent_s"]
    meta["candidates_tried"] = sum(b["candidates_tried"] for b in meta["per_batch_size"].values())
    meta["candidates_failed"] = sum(b["candidates_failed"] for b in meta["per_batch_size"].values())
    out["metadata"] = meta
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    new_dir, into_dir = sys.argv[1:3]
    files = sorted(glob.glob(os.path.join(new_dir, "fp8kit_w8a8_block128x128_*.json")))
    if not files:
        sys.exit(f"no tuned files in {new_dir}")
    for path in files:
        name = os.path.basename(path)
        new = json.load(open(path))
        target = os.path.join(into_dir, name)
        merged = merge(new, json.load(open(target))) if os.path.exists(target) else new
        tmp = target + ".merge-tmp"
        with open(tmp, "w") as f:
            json.dump(merged, f, indent=2, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp, target)
        print(f"{name}: {len(merged) - 1} batch sizes")


if __name__ == "__main__":
    main()
