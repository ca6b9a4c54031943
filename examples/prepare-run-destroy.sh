#!/usr/bin/env bash
# The original bilbo's flow on the team control plane: create a cluster,
# prepare data on its scheduler with rcmd, run a script on it with a
# parameter, then destroy the cluster only if that run failed (a cluster
# whose run succeeded stays for you to look at; the idle timeout removes it).
#
# Start `bilbo local` in another shell, export the lines it prints, then:
#   examples/prepare-run-destroy.sh [CLUSTER-NAME]
# BILBO names the command to run bilbo with (default: bilbo), e.g.
#   BILBO='npm run --silent bilbo --' examples/prepare-run-destroy.sh
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
name=${1:-prepare-run}
read -r -a bilbo <<<"${BILBO:-bilbo}"
: "${BILBO_ENDPOINT:?export the lines bilbo local printed (BILBO_ENDPOINT and the keys) first}"

"${bilbo[@]}" create "$here/local.json" -c "$name"

# 100,000 rows of made-up measurements, in the scheduler's working folder.
prepare='import csv, random
random.seed(8)
with open("data.csv", "w", newline="") as f:
    out = csv.writer(f)
    out.writerow(["id", "value"])
    out.writerows((i, round(random.gauss(10, 2), 3)) for i in range(100000))
print("wrote data.csv")'
"${bilbo[@]}" rcmd "$name" scheduler "python3 -c '$prepare'"

status=0
"${bilbo[@]}" run "$name" "$here/row-stats.py" -p rows=1000 || status=$?

# Not on a terminal, destroy needs -f; it skips the unsaved-work check too.
"${bilbo[@]}" destroy "$name" --if-failed --force
exit "$status"
