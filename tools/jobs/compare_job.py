#!/usr/bin/env python3
"""Compares a job run by torchrun with a local `scalpel train` of the same spec and seed (see check_job.sh).

Checks, each printed with its number: the per-step losses (metrics.jsonl vs the local run's log), the per-language CE
of the imported edit vs the local edit (both evaluated by Scalpel), that the base weights were unchanged (run.py's
digest, and the model folder's hash before/after), and for LoRA methods that the PEFT adapter in result/adapter is
exactly zero outside the chosen heads' rows (lora_B) or columns (lora_A). With --maps JOB_MAP LOCAL_MAP: an importance
job's map against `scalpel importance` of the same text.
"""
import json
import re
import sys

from safetensors.torch import load_file

CE_TOLERANCE = 1e-3      # nats, per language
LOSS_TOLERANCE = 1e-4    # relative, per step


def main(job_dir, local_log, imported_json, local_eval_json):
    failures = []
    job = json.load(open(f"{job_dir}/job.json"))
    summary = json.load(open(f"{job_dir}/result/summary.json"))
    metrics = [json.loads(line) for line in open(f"{job_dir}/result/metrics.jsonl")]
    local_losses = {int(m.group(1)): float(m.group(2))
                    for m in re.finditer(r"^step\s+(\d+)/\d+\s+loss (\S+)", open(local_log).read(), re.M)}
    worst_loss = max(abs(metrics[s - 1]["loss"] - l) / max(abs(l), 1e-12) for s, l in local_losses.items())
    print(f"  steps {len(metrics)} on {summary['processes']} processes; largest relative loss difference at the "
          f"logged steps {worst_loss:.2e} (tolerance {LOSS_TOLERANCE:g})")
    if worst_loss > LOSS_TOLERANCE:
        failures.append("step losses differ")
    imported = json.load(open(imported_json))["languages"]
    local = json.load(open(local_eval_json))["languages"]
    worst_ce = 0.0
    for name, values in imported.items():
        diff = abs(values["edited"] - local[name]["ce"])
        worst_ce = max(worst_ce, diff)
        print(f"  {name:6s} base {values['base']:.4f}  torchrun edit {values['edited']:.4f}  local edit "
              f"{local[name]['ce']:.4f}  |diff| {diff:.2e}")
    moved = max(abs(v["edited"] - v["base"]) for v in imported.values())
    print(f"  the edit moves the CE by up to {moved:.4f} nats (must be > 0.01, or the comparison proves nothing)")
    if moved <= 0.01:
        failures.append("the trained edit barely changes the model")
    print(f"  largest per-language CE difference {worst_ce:.2e} nats (tolerance {CE_TOLERANCE:g})")
    if worst_ce > CE_TOLERANCE:
        failures.append("per-language CE differs")
    print(f"  base weights unchanged (run.py digest): {summary['base_weights_unchanged']}")
    if not summary["base_weights_unchanged"]:
        failures.append("base weights changed")
    if job["edit"]["kind"] in ("lora", "head-lora"):
        adapter = load_file(f"{job_dir}/result/adapter/adapter_model.safetensors")
        outside = 0.0
        for a in job["edit"]["adapters"]:
            if a["slice_dim"] is None:
                continue
            module = a["weight"][:-len(".weight")]
            key = f"base_model.model.{module}.lora_{'B' if a['slice_dim'] == 0 else 'A'}.weight"
            t = adapter[key].clone()
            if a["slice_dim"] == 0:
                t[a["slice_indices"], :] = 0
            else:
                t[:, a["slice_indices"]] = 0
            outside = max(outside, float(t.abs().max()))
        print(f"  PEFT adapter: largest |value| outside the chosen heads {outside:g} (must be 0)")
        if outside != 0.0:
            failures.append("the adapter touches other heads")
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    return 0


MAP_TOLERANCE = 1e-4     # relative, per head


def compare_maps(job_map, local_map):
    """An importance job's map against `scalpel importance` on the same text: same model, data, positions, scores."""
    a, b = json.load(open(job_map)), json.load(open(local_map))
    same = {k: a[k] == b[k] for k in ("model_hash", "data_hash", "domain", "method", "tokens", "layers", "heads")}
    worst = max(abs(x - y) / max(abs(y), 1e-12) for ra, rb in zip(a["scores"], b["scores"]) for x, y in zip(ra, rb))
    print(f"  map of {a['domain']} over {a['tokens']} positions: header fields equal {all(same.values())}; largest relative "
          f"score difference over {a['layers']}x{a['heads']} heads {worst:.2e} (tolerance {MAP_TOLERANCE:g})")
    if not all(same.values()) or worst > MAP_TOLERANCE:
        print("FAILED: the maps differ" + ("" if all(same.values()) else f" in {[k for k, v in same.items() if not v]}"))
        return 1
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "--maps":
        sys.exit(compare_maps(sys.argv[2], sys.argv[3]))
    sys.exit(main(*sys.argv[1:5]))
