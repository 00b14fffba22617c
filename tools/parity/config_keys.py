#!/usr/bin/env python3
"""Write fixtures/models/config-keys.json: every key each transformers config class knows, with its default.

Usage (from the repository root):

    .venv/bin/python tools/parity/config_keys.py [--out fixtures/models/config-keys.json]

For each model_type in MODEL_TYPES the config class (``CONFIG_MAPPING[model_type]``) is built with no
arguments and its ``to_dict()`` is recorded (key -> default value), together with the keys a default
``save_pretrained`` writes (``to_diff_dict()``), the keys that come from the ``PreTrainedConfig`` base class,
and the class's ``attribute_map`` (aliases such as Qwen3-MoE's ``num_experts`` -> ``num_local_experts``).
Scalpel's Java test reads this file and fails when transformers has a key that Scalpel does not classify
(used / ignored on purpose / refused). Rerun it whenever transformers is upgraded.

Nothing is downloaded; the output is deterministic for a given transformers version (keys sorted).
"""
from __future__ import annotations

import argparse
import json
import warnings
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch
import transformers
from transformers import PreTrainedConfig
from transformers.models.auto.configuration_auto import CONFIG_MAPPING

MODEL_TYPES = [
    "llama", "mistral", "qwen2", "qwen3", "gpt2", "olmo2", "gemma2", "gemma3_text", "phi3",
    "qwen3_moe", "qwen3_next", "qwen3_5_text",
]


# keys that Hub config.json files written by transformers 4.x (or by older model code) carry, with a
# sample value: each is passed alone to the config class to see what v5 does with it
LEGACY_KWARGS = {
    "rope_theta": 12345.0,
    "rope_scaling": {"rope_type": "linear", "factor": 2.0},
    "torch_dtype": "bfloat16",
    "rope_local_base_freq": 12345.0,
    "sliding_window_pattern": 3,
    "partial_rotary_factor": 0.5,
    "num_experts": 8,
}


def jsonable(v):
    """Config values as JSON: dicts/lists recursively, torch dtypes and anything else exotic as str."""
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def legacy_behaviour(cls, defaults: dict) -> dict:
    """For each LEGACY_KWARGS key: is it folded into other keys ("consumed") or kept as a key of its own
    ("kept"), and which to_dict() keys change; or the error the class raises for the sample value."""
    out = {}
    for key, value in LEGACY_KWARGS.items():
        try:
            d = cls(**{key: value}).to_dict()
        except Exception as e:  # e.g. Phi-3 refuses rope_type "linear"
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            out[key] = {"error": f"{type(e).__name__}: {first}"[:160]}
            continue
        changed = sorted(k for k in d if k != "transformers_version" and d[k] != defaults.get(k))
        out[key] = {"kept_as_key": key in d, "changed_keys": changed}
    return out


def describe(model_type: str, base_keys: set[str]) -> dict:
    cls = CONFIG_MAPPING[model_type]
    cfg = cls()
    full = cfg.to_dict()
    diff = cfg.to_diff_dict()
    assert full.get("model_type") == model_type, (model_type, full.get("model_type"))
    return {
        "config_class": cls.__name__,
        "attribute_map": dict(sorted(getattr(cls, "attribute_map", {}).items())),
        "to_dict": jsonable(full),
        "keys_written_by_default_save": sorted(diff),
        "base_keys_in_to_dict": sorted(k for k in full if k in base_keys),
        "model_keys_in_to_dict": sorted(k for k in full if k not in base_keys),
        "legacy_kwargs": legacy_behaviour(cls, full),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="fixtures/models/config-keys.json")
    args = ap.parse_args(argv)
    transformers.utils.logging.set_verbosity_error()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)

    base = PreTrainedConfig()
    base_dict = base.to_dict()
    base_keys = set(base_dict)
    out = {
        "generated_by": "tools/parity/config_keys.py",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "note": "to_dict() of each config class built with no arguments (defaults). "
                "keys_written_by_default_save = to_diff_dict() keys (what save_pretrained writes for that "
                "default config; a real config.json also has every key whose value differs from the "
                "PreTrainedConfig default). base_keys = keys every PreTrainedConfig has. attribute_map: "
                "alias -> real attribute (an alias may appear in Hub config.json files instead of the real key). "
                "legacy_kwargs: what the class does with a 4.x-era key passed alone (sample values in "
                "legacy_kwarg_samples): kept_as_key false = folded into changed_keys (e.g. rope_theta -> "
                "rope_parameters); true = stored as an extra attribute under its own name.",
        "legacy_kwarg_samples": jsonable(LEGACY_KWARGS),
        "base_config": {
            "to_dict": jsonable(base_dict),
            "keys_written_by_default_save": sorted(base.to_diff_dict()),
        },
        "model_types": {mt: describe(mt, base_keys) for mt in MODEL_TYPES},
    }
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")
    print(f"transformers {transformers.__version__}: wrote {path}")
    for mt, d in out["model_types"].items():
        print(f"  {mt:14s} {d['config_class']:20s} {len(d['to_dict']):3d} keys "
              f"({len(d['model_keys_in_to_dict'])} model, {len(d['base_keys_in_to_dict'])} base), "
              f"aliases {d['attribute_map'] or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
