#!/usr/bin/env python3
"""Scalpel training job: the surgery `scalpel train` does locally, run by PyTorch's own distributed stack.

`scalpel export-job` wrote this folder: job.json (the resolved spec), data.safetensors (the exact token ids Scalpel
trains on), initial/ (the fresh edit: an edits file, plus a PEFT adapter for the LoRA methods). This script trains that
edit on the Hugging Face model with transformers (+ PEFT for LoRA) under torchrun, accelerate or Slurm, and writes
result/ in the formats Scalpel imports: edits.json (+ its tensors), adapter/ (PEFT, LoRA methods), metrics.jsonl,
summary.json. `scalpel import-job JOBDIR` loads the result and evaluates it.

Same semantics as the local engine, step for step: the same batches (java.util.SplittableRandom ported bit-exactly and
checked against rows Scalpel wrote), the same loss (target objective, general-text mixing, retain KL), the same AdamW
(betas 0.9/0.999, eps 1e-8, no weight decay, constant lr, per-head lr scales). Data parallel: every process holds the
whole model and takes every world-th row of each step's batch; gradients are summed with all_reduce, so every process
takes the same step and the result does not depend on the number of processes (up to float summation order).
"""
import argparse
import hashlib
import json
import math
import os
import sys
import time
import uuid

import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file

JOB_FORMAT = "scalpel-job/1"
EDITS_FORMAT = "scalpel-edits/2"
MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15


class JobError(Exception):
    """A problem with the job or its inputs, reported as one line (never a stack trace)."""


# ---------------------------------------------------------------------------------------------------------------------
# Batches: java.util.SplittableRandom (JDK 17) and Scalpel's TokenCorpus.batch, ported exactly.

def _int32(x):
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x >= 1 << 31 else x


class JavaSplittableRandom:
    """java.util.SplittableRandom(seed): nextDouble and nextInt(bound) as JDK 17 computes them."""

    def __init__(self, seed):
        self.seed = seed & MASK64

    def _next_seed(self):
        self.seed = (self.seed + GOLDEN_GAMMA) & MASK64
        return self.seed

    @staticmethod
    def _mix64(z):
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    @staticmethod
    def _mix32(z):
        z = ((z ^ (z >> 33)) * 0x62A9D9ED799705F5) & MASK64
        return _int32((((z ^ (z >> 28)) * 0xCB24D0A5C88C35B3) & MASK64) >> 32)

    def next_int(self):
        return self._mix32(self._next_seed())

    def next_double(self):
        return (self._mix64(self._next_seed()) >> 11) * 2.0 ** -53

    def next_int_bounded(self, bound):
        """RandomSupport.boundedNextInt: r & (bound-1) for powers of two, else rejection of over-represented values."""
        r = self.next_int()
        m = bound - 1
        if bound & m == 0:
            return r & m
        u = (r & 0xFFFFFFFF) >> 1
        while True:
            r = u % bound
            if _int32(u + m - r) >= 0:
                return r
            u = (self.next_int() & 0xFFFFFFFF) >> 1


def batch_rows(tokens, bos, seed, step, rows, length):
    """TokenCorpus.batch of a one-text corpus: rows of BOS + (length - 1) consecutive tokens, [rows, length] int64."""
    if len(tokens) < length - 1:
        raise JobError(f"A training text has {len(tokens)} tokens, fewer than one window of {length}; "
                       "give more text or a shorter context.")
    r = JavaSplittableRandom((seed * GOLDEN_GAMMA + step) & MASK64)
    out = torch.empty(rows, length, dtype=torch.long)
    for b in range(rows):
        r.next_double()                      # picks the source; a one-text corpus has only one
        offset = r.next_int_bounded(len(tokens) - (length - 1) + 1)
        out[b, 0] = bos
        out[b, 1:] = tokens[offset:offset + length - 1]
    return out


def general_rows(step, batch, ratio):
    """Rows of step `step` that are general text: floor(r*B*s) - floor(r*B*(s-1)), as FineTuner.generalRows."""
    return int(math.floor(ratio * batch * step + 1e-9) - math.floor(ratio * batch * (step - 1) + 1e-9))


# ---------------------------------------------------------------------------------------------------------------------
# Files

def model_hash(folder):
    """Scalpel's ModelHash: SHA-256 of config.json, then model.safetensors (or the index, then its shards by name)."""
    files = [os.path.join(folder, "config.json")]
    single = os.path.join(folder, "model.safetensors")
    if os.path.isfile(single):
        files.append(single)
    else:
        index = os.path.join(folder, "model.safetensors.index.json")
        if not os.path.isfile(index):
            raise JobError(f"{folder} has no model.safetensors nor model.safetensors.index.json; pass the model folder.")
        with open(index) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        files += [index] + [os.path.join(folder, s) for s in shards]
    sha = hashlib.sha256()
    for path in files:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                sha.update(block)
    return sha.hexdigest()


def file_sha256(path):
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def write_atomically(path, write):
    """Writes through a temporary file in the same folder, then renames it into place."""
    tmp = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_json(path, value):
    def write(tmp):
        with open(tmp, "w") as f:
            json.dump(value, f, indent=2)
            f.write("\n")
    write_atomically(path, write)


# ---------------------------------------------------------------------------------------------------------------------
# The edit: its trainable tensors, how it changes the model's linear layers, and how it is saved

def module_of(weight_name):
    """'model.layers.3.self_attn.v_proj.weight' -> 'model.layers.3.self_attn.v_proj'."""
    return weight_name[:-len(".weight")]


class HookedEdit:
    """Prefactor and head fine-tune edits: forward hooks adding the edit's contribution to nn.Linear outputs."""

    def __init__(self, model, edit, tensors, device):
        self.kind = edit["kind"]
        self.enabled = True
        self.tensors = {name: t.to(device=device, dtype=torch.float32) for name, t in tensors.items()}
        self.trainable = []        # (name, tensor, lr_scale)
        self.contributions = {}    # module name -> [function of x (float32) giving the added output]
        if self.kind == "prefactor":
            s, u, sigma, v = (self.tensors[k] for k in ("prefactors", "u", "sigma", "v"))  # [k], [out,k], [k], [in,k]
            s.requires_grad_(True)
            self.trainable.append(("prefactors", s, 1.0))
            self._add(edit["weight"], lambda x: (x @ v).mul((s - 1) * sigma) @ u.t())   # [..., in] -> [..., out]
        elif self.kind == "head-finetune":
            for part in edit["parts"]:
                delta = self.tensors[part["tensor"]]                                     # [D, in] or [out, D]
                index = torch.tensor(part["indices"], dtype=torch.long, device=device)
                delta.requires_grad_(part["lr_scale"] > 0)
                self.trainable.append((part["tensor"], delta, part["lr_scale"]))
                if part["dim"] == 0:   # the head's rows: output features
                    out = part["out_features"]
                    self._add(part["weight"], lambda x, d=delta, i=index, o=out:
                              torch.zeros(*x.shape[:-1], o, device=x.device).index_add(-1, i, x @ d.t()))
                else:                  # the head's columns: input features
                    self._add(part["weight"], lambda x, d=delta, i=index: x.index_select(-1, i) @ d.t())
        else:
            raise JobError(f"run.py cannot train an edit of kind '{self.kind}'.")
        for module_name, functions in self.contributions.items():
            module = model.get_submodule(module_name)
            if not isinstance(module, torch.nn.Linear):
                raise JobError(f"{module_name} is a {type(module).__name__}, not a Linear layer; this job cannot hook it.")
            module.register_forward_hook(self._hook(functions))

    def _add(self, weight_name, function):
        self.contributions.setdefault(module_of(weight_name), []).append(function)

    def _hook(self, functions):
        def hook(module, inputs, output):
            if not self.enabled:
                return output
            x = inputs[0].float()
            extra = functions[0](x)
            for f in functions[1:]:
                extra = extra + f(x)
            return output + extra.to(output.dtype)
        return hook

    def disabled(self):
        return _Toggle(self)

    def edits_tensors(self):
        return {name: t.detach().float().cpu().contiguous() for name, t in self.tensors.items()}

    def outside_slices_max_abs(self):
        return 0.0   # the deltas are shaped like their slices: nothing outside them exists to move


class _Toggle:
    def __init__(self, edit):
        self.edit = edit

    def __enter__(self):
        self.edit.enabled = False

    def __exit__(self, *exc):
        self.edit.enabled = True


class PeftEdit:
    """LoRA and head-LoRA as a PEFT LoRA. For head-LoRA the update is masked to the chosen heads: gradients of
    lora_B rows (q/k/v) or lora_A columns (o_proj) outside the heads are zeroed, and so are their initial values,
    so with AdamW (no weight decay) those entries stay exactly 0 and only the heads train."""

    def __init__(self, model, edit, job_dir, device):
        from peft import PeftModel
        self.kind = edit["kind"]
        self.model = PeftModel.from_pretrained(model, os.path.join(job_dir, "initial", "adapter"), is_trainable=True)
        self.model.to(device)
        for name, module in self.model.named_modules():
            if name.endswith("lora_dropout.default"):
                module.train()     # LoRA dropout as Scalpel trains it; the base model stays in eval mode
        self.adapters = edit["adapters"]
        self.trainable = []
        self.masks = {}            # parameter name -> (tensor, mask) for head-LoRA
        for adapter in self.adapters:
            module = self.model.base_model.model.get_submodule(module_of(adapter["weight"]))
            a, b = module.lora_A["default"].weight, module.lora_B["default"].weight      # [r, in], [out, r]
            a.data = a.data.float()
            b.data = b.data.float()
            self.trainable.append((adapter["weight"] + ".lora_A", a, 1.0))
            self.trainable.append((adapter["weight"] + ".lora_B", b, 1.0))
            if adapter.get("slice_dim") is not None:
                index = torch.tensor(adapter["slice_indices"], dtype=torch.long, device=device)
                target = b if adapter["slice_dim"] == 0 else a
                mask = torch.zeros_like(target)
                if adapter["slice_dim"] == 0:
                    mask[index, :] = 1
                else:
                    mask[:, index] = 1
                with torch.no_grad():
                    target.mul_(mask)
                target.register_hook(lambda g, m=mask: g * m)
                self.masks[adapter["weight"]] = (adapter["slice_dim"], index, target, mask)

    def disabled(self):
        return self.model.disable_adapter()

    def edits_tensors(self):
        """The edit's own tensors, as Scalpel stores them: a head-LoRA's B rows / A columns of the heads only."""
        out = {}
        for adapter in self.adapters:
            module = self.model.base_model.model.get_submodule(module_of(adapter["weight"]))
            a = module.lora_A["default"].weight.detach().float().cpu()
            b = module.lora_B["default"].weight.detach().float().cpu()
            if adapter.get("slice_dim") == 0:
                b = b.index_select(0, torch.tensor(adapter["slice_indices"]))
            elif adapter.get("slice_dim") == 1:
                a = a.index_select(1, torch.tensor(adapter["slice_indices"]))
            out[adapter["weight"] + ".lora_A"] = a.contiguous()
            out[adapter["weight"] + ".lora_B"] = b.contiguous()
        return out

    def outside_slices_max_abs(self):
        """Largest |value| of a head-LoRA's entries outside the chosen heads (0.0 when masking held)."""
        worst = 0.0
        for _, _, target, mask in self.masks.values():
            worst = max(worst, float((target.detach() * (1 - mask)).abs().max()))
        return worst


# ---------------------------------------------------------------------------------------------------------------------
# Training

class Trainer:
    def __init__(self, job, model, edit, data, device, rank, world):
        self.job, self.spec, self.model, self.edit = job, job["spec"], model, edit
        self.device, self.rank, self.world = device, rank, world
        self.bos = job["bos"]
        self.ln_v = math.log(job["vocab_size"])
        self.target = data["target"].long()
        self.general = data["general"].long() if "general" in data else None
        self.retain = data["retain"].long() if "retain" in data else None
        self.length = min(self.spec["context"], len(self.target) + 1)
        self.ratio = self.spec["general_ratio"] if self.general is not None else 0.0
        self.forward_model = edit.model if isinstance(edit, PeftEdit) else model

    def check_rows(self, data):
        """Refuses to train unless this port of Scalpel's batching gives the rows Scalpel wrote for steps 1 and 2."""
        for step in (1, 2):
            g = general_rows(step, self.spec["batch_size"], self.ratio)
            t = self.spec["batch_size"] - g
            expected = data.get(f"check.target.{step}")
            if t > 0 and expected is not None:
                got = batch_rows(self.target, self.bos, self.spec["seed"], step, t, self.length)
                if not torch.equal(got, expected.long()):
                    raise JobError(f"The batch of step {step} differs from the one Scalpel wrote; this run.py does not "
                                   "match the Scalpel that exported the job. Export the job again.")

    def _mine(self, rows):
        return rows[self.rank::self.world].to(self.device)

    def _frozen(self, n):
        return min(self.spec["frozen_context"], n - 2)

    def _continuation_logits(self, ids):
        """Logits of the scored positions of ids [R, n]: all n-1 inputs, or after the frozen context, whose keys and
        values are computed once without gradient and read from the cache. [R, n-1-c, V]"""
        n = ids.shape[1]
        c = self._frozen(n)
        if c == 0:
            return self.forward_model(input_ids=ids[:, :n - 1]).logits.float()
        with torch.no_grad():
            cache = self.forward_model(input_ids=ids[:, :c], use_cache=True).past_key_values
        return self.forward_model(input_ids=ids[:, c:n - 1], past_key_values=cache, use_cache=True).logits.float()

    def _ce_sum(self, ids):
        """Sum of next-token CE over the scored positions of ids [R, n] (a tensor with gradient), and their count."""
        n = ids.shape[1]
        c = self._frozen(n)
        logits = self._continuation_logits(ids)
        targets = ids[:, 1 + c:]
        ce = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum")
        return ce, targets.numel()

    def _kl_sum(self, ids):
        """Sum over positions of KL(p_base || p_edited) on ids [R, n]."""
        inputs = ids[:, :-1]
        with torch.no_grad(), self.edit.disabled():
            base = torch.log_softmax(self.forward_model(input_ids=inputs).logits.float(), -1)
        edited = torch.log_softmax(self.forward_model(input_ids=inputs).logits.float(), -1)
        return (base.exp() * (base - edited)).sum()

    def _global(self, value):
        """Sum of a float over all processes."""
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        if self.world > 1:
            dist.all_reduce(t)
        return float(t.item())

    def step_loss(self, step):
        """This process's share of step `step`'s loss (a tensor whose sum over processes has the gradient of the
        step's loss) and the step's loss as Scalpel reports it."""
        spec, batch = self.spec, self.spec["batch_size"]
        g = general_rows(step, batch, self.ratio)
        t = batch - g
        local = torch.zeros((), device=self.device)
        loss = 0.0
        if t > 0:
            rows = batch_rows(self.target, self.bos, spec["seed"], step, t, self.length)
            positions = t * (self.length - 1 - self._frozen(self.length))
            mine = self._mine(rows)
            objective = spec["objective"]
            if objective == "unlearn-uniform":
                part = (-torch.log_softmax(self._continuation_logits(mine), -1).sum() if len(mine) else local * 0)
                count = positions * self.job["vocab_size"]
                local = local + part * (t / batch / count)
                loss += t / batch * self._global(float(part.detach())) / count
            else:
                part, _ = self._ce_sum(mine) if len(mine) else (local * 0, 0)
                ce = self._global(float(part.detach())) / positions
                if objective == "learn":
                    local = local + part * (t / batch / positions)
                    loss += t / batch * ce
                elif objective == "unlearn":     # relu(ln V - CE): its gate is decided on the whole batch's CE
                    gate = 1.0 if self.ln_v - ce > 0 else 0.0
                    local = local - part * (gate * t / batch / positions)
                    loss += t / batch * max(0.0, self.ln_v - ce)
                else:
                    raise JobError(f"run.py cannot train the objective '{objective}'.")
        if g > 0:
            rows = batch_rows(self.general, self.bos, spec["seed"] + 1, step, g, self.length)
            positions = g * (self.length - 1 - self._frozen(self.length))
            mine = self._mine(rows)
            part, _ = self._ce_sum(mine) if len(mine) else (local * 0, 0)
            local = local + part * (g / batch / positions)
            loss += g / batch * self._global(float(part.detach())) / positions
        if self.retain is not None and spec["retain_weight"] > 0:
            rows = batch_rows(self.retain, self.bos, spec["seed"] + 2, step, batch, spec["context"])
            positions = batch * (spec["context"] - 1)
            mine = self._mine(rows)
            part = self._kl_sum(mine) if len(mine) else local * 0
            local = local + part * (spec["retain_weight"] / positions)
            loss += spec["retain_weight"] * self._global(float(part.detach())) / positions
        return local, loss, t

    def run(self, optimizer, metrics):
        params = [p for _, p, scale in self.edit.trainable if scale > 0]
        last_good = [p.detach().clone() for p in params]
        start = time.time()
        processed = 0
        steps = self.spec["steps"]
        for step in range(1, steps + 1):
            optimizer.zero_grad(set_to_none=False)
            local, loss, t = self.step_loss(step)
            problem = None if math.isfinite(loss) else f"the loss became {loss}"
            if problem is None:
                if local.requires_grad:
                    local.backward()
                for (name, p, scale) in self.edit.trainable:
                    if scale > 0:
                        if p.grad is None:
                            p.grad = torch.zeros_like(p)
                        if self.world > 1:
                            dist.all_reduce(p.grad)
                        if problem is None and not torch.isfinite(p.grad).all():
                            problem = f"the gradient of {name} became non-finite"
            if problem is None:
                optimizer.step()
                bad = [name for name, p, scale in self.edit.trainable if scale > 0 and not torch.isfinite(p).all()]
                problem = f"the updated value of {bad[0]} became non-finite" if bad else None
            if problem is not None:
                with torch.no_grad():
                    for p, good in zip(params, last_good):
                        p.copy_(good)
                return step - 1, f"{problem} at step {step}; the edit was restored to step {step - 1}"
            with torch.no_grad():
                for p, good in zip(params, last_good):
                    good.copy_(p)
            processed += t * (self.length - 1 - self._frozen(self.length))
            metrics.append({"step": step, "loss": loss, "target_tokens_processed": processed,
                            "seconds": round(time.time() - start, 3), "lr": self.spec["lr"]})
            if self.rank == 0 and (step == 1 or step % 10 == 0 or step == steps):
                print(f"step {step:4d}/{steps}  loss {loss:.4f}  target tokens processed {processed:,}", flush=True)
        return steps, None


class Apollo:
    """Scalpel's APOLLO (Zhu et al. 2024), step for step as its Apollo.java: per matrix [rows, cols] (oriented to
    [k, c], k = min), Adam moments of R = P.G in a random rank-r subspace (P from data.safetensors, the very
    projections Scalpel draws, redrawn every refresh_period steps), channel-wise (APOLLO-Mini: tensor-wise) scaling
    s = |R~| / |R| of the full gradient times alpha = sqrt(k / r), a norm-growth limiter; vectors and scalars get plain
    Adam. A trainable's index is its position in the edit's trainables, as in Scalpel."""

    def __init__(self, trainables, options, projections, lr):
        self.trainables, self.o, self.projections, self.lr, self.t = trainables, options, projections, lr, 0
        self.state = []
        for i, (_, p, _) in enumerate(trainables):
            if p.dim() >= 2:
                rows, cols = p.shape[0], p.numel() // p.shape[0]
                k, c = min(rows, cols), max(rows, cols)
                plan = options["matrices"][str(i)]          # Scalpel's choice: its rank, channel- or tensor-wise
                r = plan["rank"]
                alpha = options["scale"] if options["scale"] is not None else math.sqrt(k / r)
                self.state.append({"transposed": rows > cols, "alpha": alpha, "m": p.new_zeros(r, c),
                                   "v": p.new_zeros(r, c), "previous": 0.0, "tensor_wise": plan["tensor_wise"]})
            else:
                self.state.append({"m": torch.zeros_like(p), "v": torch.zeros_like(p)})

    def zero_grad(self, set_to_none=False):
        for _, p, _ in self.trainables:
            if p.grad is not None:
                p.grad.zero_()

    def _accumulate(self, st, x):
        st["m"].mul_(self.o["beta1"]).add_(x, alpha=1 - self.o["beta1"])
        st["v"].mul_(self.o["beta2"]).addcmul_(x, x, value=1 - self.o["beta2"])

    def _adam(self, st):
        bias1 = 1 - self.o["beta1"] ** self.t
        bias2 = 1 - self.o["beta2"] ** self.t
        return st["m"] / bias1 / ((st["v"] / bias2).sqrt() + self.o["eps"])

    @torch.no_grad()
    def step(self):
        self.t += 1
        for i, ((name, p, scale), st) in enumerate(zip(self.trainables, self.state)):
            if scale == 0 or p.grad is None:
                continue
            lr = self.lr * scale
            if self.o["weight_decay"] > 0 and self.o["decay"][i]:
                p.mul_(1 - lr * self.o["weight_decay"])   # decoupled decay, where Scalpel's trainable is marked for it
            if p.dim() < 2:
                self._accumulate(st, p.grad)
                direction = self._adam(st)
            else:
                refresh = (self.t - 1) // self.o["refresh_period"]
                projection = self.projections[f"apollo.{i}.{refresh}"].to(p.device)         # [r, k]
                flat = p.grad.reshape(p.shape[0], -1)
                g = flat.t() if st["transposed"] else flat                                   # [k, c]
                r = projection @ g                                                           # [r, c]
                self._accumulate(st, r)
                r_tilde = self._adam(st)
                if st["tensor_wise"]:
                    num, den = r_tilde.norm(), r.norm()
                else:
                    num, den = r_tilde.norm(dim=0, keepdim=True), r.norm(dim=0, keepdim=True)   # [1, c]
                s = torch.where(den > 0, num / den, torch.zeros_like(num))
                update = g * s * st["alpha"]                                                 # [k, c]
                gamma = self.o["norm_growth_limit"]
                if math.isfinite(gamma):
                    norm = float(update.norm())
                    cap = st["previous"] * gamma
                    factor = cap / norm if st["previous"] > 0 and norm > cap else 1.0
                    update.mul_(factor)
                    st["previous"] = norm * factor
                direction = (update.t() if st["transposed"] else update).reshape(p.shape)
            p.add_(direction, alpha=-lr)


def gradient_importance(job, model, data, device, rank, world):
    """scalpel importance --method gradient, data parallel: per head, the mean over positions of |dL/dg| for a gate
    g = 1 multiplying the head's output z before o_proj (one gate per head and position; L = the sum over rows of each
    row's mean next-token CE). Process r takes batches r, r + world, ...; the sums are all-reduced. [layers, heads]"""
    spec = job["importance"]
    layers, heads, head_dim = spec["layers"], spec["heads"], spec["head_dim"]
    decoder_layers = model.model.layers
    gates = {}

    def gate_hook(layer):
        def hook(module, args):
            z = args[0]                                                    # [B, S, H*D]
            g = gates[layer]                                               # [B, S, H]
            return (z.view(*z.shape[:-1], heads, head_dim) * g.unsqueeze(-1).to(z.dtype)).view(z.shape),
        return hook

    for layer in range(layers):
        decoder_layers[layer].self_attn.o_proj.register_forward_pre_hook(gate_hook(layer))
    sums = torch.zeros(layers, heads, dtype=torch.float64, device=device)
    positions = 0
    for i in range(rank, spec["batches"], world):
        ids = data[f"batch.{i}"].long().to(device)                        # [B, n]
        b, n = ids.shape
        for layer in range(layers):
            gates[layer] = torch.ones(b, n - 1, heads, device=device, requires_grad=True)
        logits = model(input_ids=ids[:, :n - 1]).logits.float()
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1),
                                                 reduction="sum") / (n - 1)
        grads = torch.autograd.grad(loss, [gates[layer] for layer in range(layers)])
        for layer, g in enumerate(grads):
            sums[layer] += g.abs().sum(dim=(0, 1)).double()
        positions += b * (n - 1)
        if rank == 0:
            print(f"gradient: batch {i + 1}/{spec['batches']}", flush=True)
    counted = torch.tensor([positions], dtype=torch.float64, device=device)
    if world > 1:
        dist.all_reduce(sums)
        dist.all_reduce(counted)
    if int(counted.item()) != spec["positions"]:
        raise JobError(f"scored {int(counted.item())} positions, the job has {spec['positions']}; export the job again.")
    return (sums / counted).cpu().tolist()


def write_map(job_dir, job, scores, summary):
    """result/map.json in the format of Scalpel's importance map files, and summary.json."""
    spec = job["importance"]
    out = os.path.join(job_dir, "result")
    os.makedirs(out, exist_ok=True)
    lines = ",\n".join("    " + json.dumps(row) for row in scores)
    text = (f'{{\n  "model_hash" : {json.dumps(job["model"]["hash"])},\n  "data_hash" : {json.dumps(spec["data_hash"])},\n'
            f'  "domain" : {json.dumps(spec["domain"])},\n  "method" : "gradient",\n  "tokens" : {spec["positions"]},\n'
            f'  "layers" : {spec["layers"]},\n  "heads" : {spec["heads"]},\n  "scores" : [\n{lines}\n  ]\n}}\n')
    write_atomically(os.path.join(out, "map.json"), lambda tmp: open(tmp, "w").write(text))
    write_json(os.path.join(out, "summary.json"), summary)


def make_optimizer(edit, lr):
    """Scalpel's AdamW: betas 0.9/0.999, eps 1e-8, no weight decay, one group per tensor at lr x its lr scale (tensors
    with scale 0 are frozen: not in the optimizer, so nothing, not even decay, moves them)."""
    groups = [{"params": [p], "lr": lr * scale} for _, p, scale in edit.trainable if scale > 0]
    if not groups:
        raise JobError("Every trainable tensor of this edit has learning-rate scale 0; nothing would train.")
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)


def base_weights_digest(parameters):
    sha = hashlib.sha256()
    for p in parameters:
        sha.update(p.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return sha.hexdigest()


def write_result(job_dir, job, edit, initial_manifest, metrics, summary):
    out = os.path.join(job_dir, "result")
    os.makedirs(out, exist_ok=True)
    tensors_name = f"edits.{uuid.uuid4().hex[:12]}.safetensors"
    tensors_path = os.path.join(out, tensors_name)
    tensors = {f"0.{name}": t for name, t in edit.edits_tensors().items()}
    write_atomically(tensors_path, lambda tmp: save_file(tensors, tmp, metadata={"format": EDITS_FORMAT}))
    manifest = dict(initial_manifest)
    manifest["edits"] = [dict(e) for e in initial_manifest["edits"]]
    manifest["edits"][0]["description"] += f" (trained by run.py, {summary['processes']} process(es))"
    manifest["tensors"] = tensors_name
    manifest["tensors_sha256"] = file_sha256(tensors_path)
    for old in os.listdir(out):
        if old.startswith("edits.") and old.endswith(".safetensors") and old != tensors_name:
            os.remove(os.path.join(out, old))
    write_json(os.path.join(out, "edits.json"), manifest)
    if isinstance(edit, PeftEdit):
        edit.model.save_pretrained(os.path.join(out, "adapter"))
    write_atomically(os.path.join(out, "metrics.jsonl"),
                     lambda tmp: open(tmp, "w").write("".join(json.dumps(m) + "\n" for m in metrics)))
    write_json(os.path.join(out, "summary.json"), summary)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--job", default=os.path.dirname(os.path.abspath(__file__)), help="the job folder (default: this script's)")
    parser.add_argument("--model", help="the base model: a folder or a Hugging Face id (default: the path in job.json)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32",
                        help="the base model's dtype (the edit trains in float32; parity with Scalpel is shown at float32)")
    args = parser.parse_args()

    with open(os.path.join(args.job, "job.json")) as f:
        job = json.load(f)
    if job.get("format") != JOB_FORMAT:
        raise JobError(f"{args.job}/job.json is not a Scalpel job (format {job.get('format')!r}, expected {JOB_FORMAT}).")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    if use_cuda:
        torch.cuda.set_device(local_rank)
    device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    if not use_cuda:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", "1"))))
    if world > 1:
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")

    model_path = args.model or job["model"]["path"]
    if os.path.isdir(model_path):
        found = model_hash(model_path)
        if found != job["model"]["hash"]:
            raise JobError(f"{model_path} is not the model this job was exported for (hash {found[:12]}, the job's "
                           f"{job['model']['hash'][:12]}); pass --model with that model's folder.")
    from transformers import AutoModelForCausalLM
    torch.manual_seed(job.get("spec", {}).get("seed", 0))
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=getattr(torch, args.dtype)).to(device)
    model.requires_grad_(False)
    base_parameters = list(model.parameters())
    digest_before = base_weights_digest(base_parameters) if rank == 0 else None

    data = load_file(os.path.join(args.job, "data.safetensors"))
    if job.get("kind", "train") == "importance":
        start = time.time()
        scores = gradient_importance(job, model, data, device, rank, world)
        if rank == 0:
            write_map(args.job, job, scores, {"kind": "importance", "processes": world, "device": str(device),
                                              "dtype": args.dtype, "seconds": round(time.time() - start, 3),
                                              "base_weights_unchanged": digest_before == base_weights_digest(base_parameters),
                                              "versions": {"torch": torch.__version__}})
            print(f"done; wrote {os.path.join(args.job, 'result', 'map.json')}", flush=True)
        if world > 1:
            dist.barrier()
            dist.destroy_process_group()
        return 0
    with open(os.path.join(args.job, "initial", "edits.json")) as f:
        initial_manifest = json.load(f)
    edit_meta = job["edit"]
    if edit_meta["kind"] in ("lora", "head-lora"):
        edit = PeftEdit(model, edit_meta, args.job, device)
    else:
        edit = HookedEdit(model, edit_meta, {k[2:]: v for k, v in load_file(
            os.path.join(args.job, "initial", initial_manifest["tensors"])).items()}, device)
    trainer = Trainer(job, model, edit, data, device, rank, world)
    trainer.check_rows(data)
    if job["spec"]["optimizer"] == "adamw":
        optimizer = make_optimizer(edit, job["spec"]["lr"])
    else:
        optimizer = Apollo(edit.trainable, job["apollo"], data, job["spec"]["lr"])
    if rank == 0:
        print(f"{edit_meta['description']}\ntraining on {world} process(es), {device}, {args.dtype}", flush=True)
    metrics = []
    start = time.time()
    steps, stopped = trainer.run(optimizer, metrics)
    if rank == 0:
        digest_after = base_weights_digest(base_parameters)
        summary = {"steps": steps, "stopped": stopped, "diverged": stopped is not None, "processes": world,
                   "device": str(device), "dtype": args.dtype, "seconds": round(time.time() - start, 3),
                   "last_loss": metrics[-1]["loss"] if metrics else None,
                   "base_weights_unchanged": digest_before == digest_after,
                   "adapter_max_abs_outside_heads": edit.outside_slices_max_abs(),
                   "versions": {"torch": torch.__version__, "python": sys.version.split()[0]}}
        try:
            import transformers
            import peft
            summary["versions"].update(transformers=transformers.__version__, peft=peft.__version__)
        except ImportError:
            pass
        if stopped is None:
            write_result(args.job, job, edit, initial_manifest, metrics, summary)
            print(f"done; wrote {os.path.join(args.job, 'result')}", flush=True)
        else:
            os.makedirs(os.path.join(args.job, "result"), exist_ok=True)
            write_json(os.path.join(args.job, "result", "summary.json"), summary)
            print(f"error: training diverged: {stopped}. Lower \"lr\" in job.json and run again; nothing was written.",
                  file=sys.stderr, flush=True)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return 0 if stopped is None else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except JobError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
