"""The Python side of bench/readers: one process per reader group (light, torch, tensorflow, spark, presto),
driven by main.ts over stdin/stdout, one JSON object per line each way. It prepares the group's data on every
target (generated once into the data folder, uploaded to each server) and runs one reader against one target
per request, timing only the read itself. Everything else it prints goes to stderr.

  {"op": "prepare", "targets": [...], "data_dir": "...", "scale": 1}  -> {"readers": {name: {unit, ranges}}}
  {"op": "run", "reader": "pyarrow-whole", "target": "cairn"}           -> {"seconds": s, "items": n}
  {"op": "close"}

A target is {"name", "endpoint", "access_key", "secret_key", "region", "bucket"}. `ranges` are the byte ranges
([key, first, last]) a reader needs: what the raw GET baseline of main.ts fetches for "the same bytes"."""
import importlib
import json
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

GROUPS = {"light": "light", "habits": "habits", "torch": "ml_torch", "tensorflow": "ml_tensorflow",
          "spark": "spark_reader", "presto": "presto_reader"}


def main() -> None:
    group = sys.argv[1]
    module = importlib.import_module(GROUPS[group])
    out = sys.stdout
    sys.stdout = sys.stderr  # readers' own prints must not break the protocol
    state = None
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "prepare":
                state = module.Group(request["targets"], Path(request["data_dir"]), float(request.get("scale", 1)))
                answer = {"readers": state.prepare()}
            elif request["op"] == "run":
                started = time.perf_counter()
                items = state.run(request["reader"], request["target"])
                answer = {"seconds": time.perf_counter() - started, "items": items}
            elif request["op"] == "close":
                if state is not None:
                    state.close()
                answer = {"closed": True}
            else:
                answer = {"error": f"unknown op {request['op']}"}
        except Exception as e:  # reported to main.ts, which stops the bench with it
            traceback.print_exc()
            answer = {"error": f"{type(e).__name__}: {e}"}
        out.write(json.dumps(answer) + "\n")
        out.flush()
        if request["op"] == "close":
            return


if __name__ == "__main__":
    main()
