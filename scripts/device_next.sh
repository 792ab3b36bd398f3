#!/usr/bin/env bash
# One device call never wasted on the wrong GPU: a call naming nvidia-h200 often gets an H100
# (session 43: two of three), so this runs the pending calls of whichever GPU came, from its list
# below, in order, each while LIMIT leaves its estimate, each archived as $OUT/stepI-callN.tgz even
# when cut. Edit the lists as calls land. Carry build-run and build-peers
# (after `bash scripts/pending_calls.sh prepare`):
#   LIMIT=520 bash scripts/device_next.sh        (run's timeout_s: LIMIT + 30)
set -u
cd "$(dirname "$0")/.."
# "VAR=VALUE ...|CALL|SECONDS": the variables, pending_calls.sh's call, its estimate (fresh machine)
h200_calls=(
  "|9|90"                                # issue 13: where decode's weight stream loses
  "ONLY=3072,7168,512 STRADDLE=1|5|200"  # issue 12's worst H200 cell, on the 32-bit shared base
  "CONFIGS=/tmp/fp8kit_merged|1|480"     # issue 12 side by side on what call 5 merged (if anything)
  "DEEP=1|6|240" "|6|240")               # issue 13's cold decode candidates
h100_calls=(
  "EXP=tmagroup|exp:ab|260"                                # issue 13: a decode tile's loads grouped
  "EXP=l2early EXP_ENV=FP8KIT_EXP_L2_EARLY=1|exp:ab|260")  # issue 13: the weight into L2 before the wait
# LIST=decode, either GPU: issue 13's A/Bs of experiments against main, carrying build-run and
# build-exp/NAME (after `rm -rf build-run/jit && EXP=NAME [EXP_ENV=...] bash
# scripts/experiments/ab_call.sh prepare`). "exp:NAME" runs scripts/experiments/NAME_call.sh OUT,
# which fills OUT/NAME.
decode_calls=("EXP=tmagroup|exp:ab|260" "EXP=l2early EXP_ENV=FP8KIT_EXP_L2_EARLY=1|exp:ab|260")
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader | head -1)
nvidia-smi --query-gpu=name,uuid,clocks.max.sm --format=csv,noheader
case "${LIST:-}:$gpu" in decode:*) calls=("${decode_calls[@]}") ;; *H200*) calls=("${h200_calls[@]}") ;;
  *) calls=("${h100_calls[@]}") ;; esac
end=$(( $(date +%s) + ${LIMIT:-520} ))
i=0
for c in "${calls[@]}"; do
  IFS='|' read -r vars call est <<< "$c"
  i=$((i + 1)) left=$(( end - $(date +%s) ))
  [ "$left" -ge "$est" ] || { echo "call $call ($vars): $left s left, needs ~$est: stop"; break; }
  echo "== step $i: call $call $vars (${left} s left)"
  folder=call$call cmd=(bash scripts/pending_calls.sh "$call" "$OUT")
  [[ $call == exp:* ]] && folder=${call#exp:} cmd=(bash "scripts/experiments/${call#exp:}_call.sh" "$OUT")
  # shellcheck disable=SC2086  # the variables are words
  env $vars timeout "$left" "${cmd[@]}" 2>&1 | tail -25
  # a pending call archives itself; an experiment, or a call cut by the limit, leaves its folder
  [ -d "$OUT/$folder" ] && tar czf "$OUT/$folder.tgz" -C "$OUT" "$folder" && rm -rf "${OUT:?}/$folder"
  [ -e "$OUT/$folder.tgz" ] && mv "$OUT/$folder.tgz" "$OUT/step$i-$folder.tgz"
done
ls -la "$OUT"
