#!/usr/bin/env python3
"""Rewrites the tuned-config files of GPU FROM for GPU TO, in place: the library takes a file only
where its metadata "device" and its file name's tag name the GPU it runs on (core/tuned_configs.cpp),
so another GPU's configs are timed there only after this (scripts/pending_calls.sh on a lent H100).

  scripts/tuned_configs_for_device.py --from "NVIDIA H200" --to "NVIDIA H100 80GB HBM3" [--note TEXT] DIR ...

Every `*device=<FROM's tag>.json` under each DIR (recursively) becomes `*device=<TO's tag>.json`, its
bytes unchanged but for the device name, so a round trip gives the files back byte for byte. With
--note (a folder to ship), the metadata also records where the configs came from."""

import argparse
import json
import os
import re
import sys


def file_tag(device: str) -> str:
    """core/tuned_config_file.cpp's device_file_tag."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", device)


def rewrite(path: str, src: str, dst: str, note: str | None) -> None:
    text = open(path).read()
    field = re.compile(r'("device":\s*)' + re.escape(json.dumps(src)))
    if len(field.findall(text)) != 1:
        raise SystemExit(f"{path}: expected one metadata \"device\": {json.dumps(src)}")
    text = field.sub(lambda m: m.group(1) + json.dumps(dst), text)
    if note:
        f = json.loads(text)
        f["metadata"].setdefault("versions", {})["device_note"] = f"configs of {src}: {note}"
        text = json.dumps(f, indent=2) + "\n"
    out = path[: path.rindex("device=")] + f"device={file_tag(dst)}.json"
    with open(out, "w") as fh:
        fh.write(text)
    if out != path:
        os.remove(path)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--from", dest="src", required=True)
    p.add_argument("--to", dest="dst", required=True)
    p.add_argument("--note")
    p.add_argument("dirs", nargs="+")
    a = p.parse_args()
    if a.src == a.dst and not a.note:
        return
    suffix = f"device={file_tag(a.src)}.json"
    count = 0
    for d in a.dirs:
        if not os.path.isdir(d):
            print(f"{d}: not a directory, skipped", file=sys.stderr)
            continue
        for root, _, files in os.walk(d):
            for name in sorted(files):
                if name.endswith(suffix):
                    rewrite(os.path.join(root, name), a.src, a.dst, a.note)
                    count += 1
    print(f"{count} files rewritten for {a.dst}", file=sys.stderr)


if __name__ == "__main__":
    main()
