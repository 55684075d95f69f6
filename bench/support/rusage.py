# Runs argv[2:] as a child and writes its wall time (fork to reap) and its peak RSS (ru_maxrss from
# wait4: that process alone, not its own children) to argv[1] as JSON. Used by bench/support/bench.mjs,
# so that the measured process runs with no preload or flag of ours.
import json
import os
import sys
import time

out, argv = sys.argv[1], sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
elapsed = (time.perf_counter() - started) * 1000
with open(out, "w") as handle:
    json.dump({"ms": elapsed, "maxRssKiB": usage.ru_maxrss, "exitCode": os.waitstatus_to_exitcode(status)}, handle)
