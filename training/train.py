#!/usr/bin/env python3
"""Train the MetaChrom network (model.py) on the synthetic grammar data (generate.py) or on
real chrX windows (chrx_data.py); the number of outputs is read from the data's labels.

    nice -n 10 /work/venv-torch/bin/python training/train.py --data training/data/v3 \
        --run training/runs/NAME --preset w3/8 --lr 1e-3 --minutes 45

- BCE loss (on the head's pre-sigmoid output: the same loss, numerically stable), Adam,
  linear warm-up then cosine decay over the planned steps; random reverse-complement
  augmentation (the grammar is strand-symmetric).
- Auxiliary BCE terms (deep supervision; the architecture and the inference path are
  unchanged): the residual branch's own 31 outputs and the pre-ReLU values of the two
  31-wide ReLU bottlenecks (`seq_model.classifier.2`, `classifier.0`) are trained
  against the labels, and the first 44 meta-branch outputs against motif-site features
  (has >= 1 / >= 2 sites of each of the 22 motifs), the analogue of the DeepSEA
  chromatin features the original meta branch was trained on. Without them the
  31-wide ReLU units die within a few dozen steps (Adam's normalised steps random-walk
  them below zero while the gradient carries no signal yet) and training stalls at
  AUROC 0.5. Only the main loss is logged.
- The first 44 filters of base_model.conv_net.0 start from the JASPAR matrices
  (--motif-init; see motif_init()).
- One CPU thread by default (--threads).
- Resumable: <run>/state.pth holds everything needed to continue (model, optimizer,
  step, RNG, elapsed wall time); run the same command again to continue.
- At the end (and at every --save-every minutes) <run>/checkpoint.pth is written as the
  original pipeline wrote checkpoints: torch.save({"epoch", "state_dict", "optimizer", "loss"}).
- --steps fixes the plan; otherwise --minutes with the windows/s measured in the first
  --calib-steps steps sets it (the plan is then stored in state.pth and kept on resume;
  resuming with a larger --steps extends it, the cosine then restarting part-way).
- --bench N: time N steps and print windows/s, write nothing.
Log lines go to stdout and <run>/log.txt with wall time.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import PRESETS, MetaChrom, init_weights, macs_per_window, one_hot  # noqa: E402


def load_split(data, name, motifs=False):
    z = np.load(os.path.join(data, f"{name}.npz"))
    out = (torch.from_numpy(z["seqs"].copy()), torch.from_numpy(z["labels"].astype(np.float32)))
    if motifs:
        out += (torch.from_numpy(z["motifs"].astype(np.float32)) if "motifs" in z.files else None,)
    return out


def batch_x(seqs, idx, rc_mask=None):
    x = one_hot(seqs[idx])
    if rc_mask is not None and rc_mask.any():
        x[rc_mask] = x[rc_mask].flip(1).flip(2)  # AGCT -> TCGA is the complement
    return x


@torch.no_grad()
def predict(model, seqs, batch=256, parts=False):
    model.eval()
    out = []
    for i in range(0, len(seqs), batch):
        x = batch_x(seqs, torch.arange(i, min(i + batch, len(seqs))))
        out.append(model.forward_train(x) if parts else model(x))
    model.train()
    if parts:
        return {k: torch.cat([o[k] for o in out]).numpy() for k in out[0]}
    return torch.cat(out).numpy()


def motif_init(model, scale=1.0):
    """Initialise the first filters of the meta branch (base_model.conv_net.0, width 8)
    with the 8 most informative consecutive columns of each grammar motif's log-odds
    matrix, forward and reverse complement, in A,G,C,T channel order, with a bias that
    lets only strong matches through the ReLU. The analogue, for a model trained from
    scratch, of the original meta branch being a pretrained DeepSEA network. Returns
    the number of filters set (at most the layer's width)."""
    from grammar import Grammar
    g = Grammar.load()
    conv = model.base_model.conv_net[0]
    k = conv.weight.shape[2]
    filters = []
    for key in g.motif_keys:
        m = g.motifs[key]
        lo = np.log2(m.prob / g.bg)  # (L, 4) ACGT, bits
        if m.length < k:
            lo = np.concatenate([lo, np.zeros((k - m.length, 4))])
        ic = (m.prob * np.log2(m.prob / g.bg)).sum(1)
        ic = np.concatenate([ic, np.zeros(max(0, k - len(ic)))])
        start = int(np.argmax([ic[i:i + k].sum() for i in range(len(ic) - k + 1)]))
        w = lo[start:start + k]  # (k, 4) ACGT
        fwd = w[:, [0, 2, 1, 3]].T  # AGCT x k
        rev = w[::-1][:, [3, 1, 2, 0]].T  # reverse complement, AGCT x k
        best = w.max(1).sum()
        for f in (fwd, rev):
            filters.append((f, -0.6 * best))
    n = min(len(filters), conv.weight.shape[0])
    with torch.no_grad():
        for i in range(n):
            f, b = filters[i]
            conv.weight[i] = torch.tensor(f * scale * 0.25, dtype=torch.float32)
            conv.bias[i] = float(b * scale * 0.25)
    return n


def mean_auroc(y, p):
    from sklearn.metrics import roc_auc_score
    vals = [roc_auc_score(y[:, j], p[:, j]) for j in range(y.shape[1]) if 0 < y[:, j].sum() < len(y)]
    return float(np.mean(vals))


def mean_auprc(y, p):
    from sklearn.metrics import average_precision_score
    vals = [average_precision_score(y[:, j], p[:, j]) for j in range(y.shape[1]) if 0 < y[:, j].sum() < len(y)]
    return float(np.mean(vals))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--run", help="run directory (log, state, checkpoint)")
    ap.add_argument("--preset", default="w3/8", choices=sorted(PRESETS))
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--dropout", type=float, nargs=3, default=[0.1, 0.1, 0.2])
    ap.add_argument("--steps", type=int, default=0, help="planned optimizer steps (0: from --minutes)")
    ap.add_argument("--minutes", type=float, default=60.0, help="training time budget when --steps is 0")
    ap.add_argument("--calib-steps", type=int, default=50)
    ap.add_argument("--eval-every", type=float, default=10.0, help="minutes between validation AUROC")
    ap.add_argument("--save-every", type=float, default=5.0, help="minutes between state saves")
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", choices=["kaiming", "default"], default="kaiming")
    ap.add_argument("--aux-seq", type=float, default=1.0,
                    help="weight of BCE vs the labels on the residual branch's 31 outputs and on "
                         "the pre-ReLU values of its 31-wide bottleneck")
    ap.add_argument("--aux-head", type=float, default=1.0,
                    help="weight of BCE vs the labels on the pre-ReLU values of the head's 31-wide layer")
    ap.add_argument("--motif-init", type=float, default=1.0,
                    help="scale of the JASPAR-initialised filters of base_model.conv_net.0 (0: off)")
    ap.add_argument("--aux-meta", type=float, default=1.0,
                    help="weight of BCE on the first meta outputs vs motif-site features (data 'motifs')")
    ap.add_argument("--stop-at", type=int, default=0,
                    help="stop (saving state and checkpoint) at this step without changing the plan; "
                         "a later run resumes from there")
    ap.add_argument("--bench", type=int, default=0, help="time this many steps and exit")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    seqs, labels, motif_feats = load_split(args.data, "train", motifs=True)
    cfg = dict(PRESETS[args.preset])
    cfg["n_out"] = int(labels.shape[1])  # 31 for the grammar data, 12 for chrx_data.py
    model = MetaChrom(cfg, dropout=tuple(args.dropout))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    n_params = sum(p.numel() for p in model.parameters())

    n = len(seqs)
    if args.init == "kaiming":
        init_weights(model, prior=labels.mean(0))
    n_motif_filters = motif_init(model, args.motif_init) if args.motif_init else 0
    if motif_feats is None or args.aux_meta == 0:
        motif_feats = None
    elif motif_feats.shape[1] > cfg["meta_out"]:
        raise SystemExit("more motif features than meta outputs")

    bce = F.binary_cross_entropy_with_logits
    # The pre-ReLU bottleneck values v are trained as logits shifted by
    # logit(prior) - 1: an uninformative unit then settles at v = +1 (alive), not at
    # logit(prior) < 0 (dead).
    prior = labels.mean(0).clamp(1e-3, 1 - 1e-3)
    shift = torch.log(prior / (1 - prior)) - 1.0

    def loss_fn(x, idx):
        o = model.forward_train(x)
        y = labels[idx]
        loss = bce(o["out"], y)
        main_loss = loss.detach()
        if args.aux_seq:
            loss = loss + args.aux_seq * (bce(o["seq"], y) + bce(o["seq_pre"] + shift, y))
        if args.aux_head:
            loss = loss + args.aux_head * bce(o["head_pre"] + shift, y)
        if motif_feats is not None:
            k = motif_feats.shape[1]
            loss = loss + args.aux_meta * bce(o["meta"][:, :k], motif_feats[idx])
        return loss, main_loss

    if args.bench:
        g = torch.Generator().manual_seed(args.seed)
        times = []
        for s in range(args.bench + 3):
            idx = torch.randint(0, n, (args.batch,), generator=g)
            t = time.perf_counter()
            loss, _ = loss_fn(batch_x(seqs, idx), idx)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if s >= 3:
                times.append(time.perf_counter() - t)
        per = float(np.median(times))
        print(json.dumps({"preset": args.preset, "config": cfg, "params": n_params,
                          "gmac_per_window_fwd": round(macs_per_window(cfg) / 1e9, 4),
                          "threads": args.threads, "batch": args.batch, "steps": args.bench,
                          "s_per_step_median": round(per, 4),
                          "train_windows_per_s": round(args.batch / per, 2)}))
        return

    os.makedirs(args.run, exist_ok=True)
    logf = open(os.path.join(args.run, "log.txt"), "a")

    def log(msg):
        line = f"[{time.strftime('%Y-%m-%d %H:%M:%S')}] {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    vseqs, vlabels, vmotifs = load_split(args.data, "valid", motifs=True)
    state_path = os.path.join(args.run, "state.pth")
    st = {"step": 0, "planned_steps": args.steps, "wall_s": 0.0, "perm": None, "perm_pos": 0,
          "epoch": 0, "history": [], "args": vars(args), "config": cfg}
    rng = np.random.default_rng(args.seed)
    if os.path.exists(state_path):
        saved = torch.load(state_path, map_location="cpu", weights_only=False)
        if saved["config"] != cfg:
            raise SystemExit(f"{state_path} was trained with {saved['config']}, not preset {args.preset}")
        model.load_state_dict(saved["state_dict"])
        opt.load_state_dict(saved["optimizer"])
        rng.bit_generator.state = saved["rng"]
        torch.set_rng_state(saved["torch_rng"])
        st = saved["st"]
        log(f"resumed at step {st['step']}/{st['planned_steps']} (wall {st['wall_s'] / 60:.1f} min so far)")
        if args.steps and args.steps > st["planned_steps"]:
            # extend a finished or running plan: the cosine restarts part-way (warm restart)
            log(f"plan extended from {st['planned_steps']} to {args.steps} steps")
            st["planned_steps"] = args.steps
    else:
        log(f"start: preset {args.preset} {cfg}, {n_params} parameters, "
            f"{macs_per_window(cfg) / 1e9:.3f} GMAC/window forward, {n} training windows, "
            f"batch {args.batch}, lr {args.lr}, threads {args.threads}, init {args.init}, "
            f"motif-init filters {n_motif_filters}, aux-seq {args.aux_seq}, aux-head {args.aux_head}, "
            f"aux-meta {args.aux_meta if motif_feats is not None else 0} "
            f"({0 if motif_feats is None else motif_feats.shape[1]} motif features)")

    def save_state():
        tmp = state_path + ".tmp"
        torch.save({"config": cfg, "state_dict": model.state_dict(), "optimizer": opt.state_dict(),
                    "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(), "st": st}, tmp)
        os.replace(tmp, state_path)

    def save_checkpoint(loss):
        tmp = os.path.join(args.run, "checkpoint.pth.tmp")
        torch.save({"epoch": st["epoch"], "state_dict": model.state_dict(),
                    "optimizer": opt.state_dict(), "loss": float(loss)}, tmp)
        os.replace(tmp, os.path.join(args.run, "checkpoint.pth"))

    def lr_at(step, total):
        if step < args.warmup:
            return args.lr * (step + 1) / args.warmup
        frac = min(1.0, (step - args.warmup) / max(1, total - args.warmup))
        return 1e-5 + (args.lr - 1e-5) * 0.5 * (1 + math.cos(math.pi * frac))

    model.train()
    seg_start = time.time()
    wall0 = st["wall_s"]
    last_save = last_eval = time.time()
    run_loss, run_n, t_log = 0.0, 0, time.time()
    loss_ema = None
    while True:
        total = st["planned_steps"] or 10 ** 9
        if st["step"] >= total:
            break
        if args.stop_at and st["step"] >= args.stop_at:
            log(f"stopped at step {st['step']} (--stop-at) of {st['planned_steps']} planned")
            break
        if st["perm"] is None or st["perm_pos"] + args.batch > n:
            if st["perm"] is not None:
                st["epoch"] += 1
            st["perm"] = rng.permutation(n)
            st["perm_pos"] = 0
        idx = torch.from_numpy(st["perm"][st["perm_pos"]:st["perm_pos"] + args.batch].copy())
        st["perm_pos"] += args.batch
        rc = torch.from_numpy(rng.random(args.batch) < 0.5)
        for gparam in opt.param_groups:
            gparam["lr"] = lr_at(st["step"], total if st["planned_steps"] else 10 ** 9)
        loss, main_loss = loss_fn(batch_x(seqs, idx, rc), idx)
        opt.zero_grad()
        loss.backward()
        opt.step()
        st["step"] += 1
        lv = main_loss.item()
        loss_ema = lv if loss_ema is None else 0.98 * loss_ema + 0.02 * lv
        run_loss += lv
        run_n += 1
        st["wall_s"] = wall0 + (time.time() - seg_start)

        if not st["planned_steps"] and st["step"] == args.calib_steps:
            rate = st["step"] / st["wall_s"]
            # evaluation and saving take a few percent; keep 5 % aside
            st["planned_steps"] = int(rate * args.minutes * 60 * 0.95)
            log(f"calibration: {rate * args.batch:.1f} windows/s -> {st['planned_steps']} steps "
                f"({st['planned_steps'] * args.batch / n:.2f} epochs) for {args.minutes:.0f} min")
        if st["step"] % args.log_every == 0:
            dt = time.time() - t_log
            log(f"step {st['step']}/{st['planned_steps']} epoch {st['epoch']} loss {run_loss / run_n:.4f} "
                f"lr {opt.param_groups[0]['lr']:.2e} {run_n * args.batch / dt:.1f} windows/s "
                f"wall {st['wall_s'] / 60:.1f} min")
            run_loss, run_n, t_log = 0.0, 0, time.time()
        done = st["planned_steps"] and st["step"] >= st["planned_steps"]
        if time.time() - last_eval > args.eval_every * 60 or done:
            pv = predict(model, vseqs, parts=True)
            auc = mean_auroc(vlabels.numpy(), pv["out"])
            aupr = mean_auprc(vlabels.numpy(), pv["out"])
            auc_seq = mean_auroc(vlabels.numpy(), pv["seq"])
            auc_head = mean_auroc(vlabels.numpy(), pv["head_pre"])
            auc_motif = float("nan")
            if vmotifs is not None:
                vm = vmotifs.numpy()
                binary = [j for j in range(vm.shape[1]) if np.isin(vm[:, j], (0.0, 1.0)).all()]
                # soft targets (chrx_aux.py) have no AUROC: only their 0/1 columns count
                if binary:
                    auc_motif = mean_auroc(vm[:, binary], pv["meta"][:, binary])
            st["history"].append({"step": st["step"], "wall_s": round(st["wall_s"], 1),
                                  "loss_ema": round(loss_ema, 5), "valid_mean_auroc": round(auc, 4),
                                  "valid_mean_auprc": round(aupr, 4),
                                  "valid_seq_branch_auroc": round(auc_seq, 4),
                                  "valid_meta_motif_auroc": round(auc_motif, 4)})
            log(f"valid mean AUROC {auc:.4f} AUPRC {aupr:.4f} (residual branch {auc_seq:.4f}, head bottleneck "
                f"{auc_head:.4f}, meta motif features {auc_motif:.4f}) at step {st['step']} "
                f"(wall {st['wall_s'] / 60:.1f} min)")
            last_eval = time.time()
            t_log = time.time()
            run_loss, run_n = 0.0, 0
        if time.time() - last_save > args.save_every * 60 or done:
            save_state()
            save_checkpoint(loss_ema)
            last_save = time.time()
    if st["step"] == 0:
        return
    st["epoch_fraction"] = st["epoch"] + st["perm_pos"] / n
    save_state()
    if loss_ema is None:  # stopped (--stop-at) before any step of this run: keep the last loss
        loss_ema = torch.load(os.path.join(args.run, "checkpoint.pth"), map_location="cpu",
                              weights_only=False)["loss"]
    save_checkpoint(loss_ema)
    with open(os.path.join(args.run, "train_summary.json"), "w") as f:
        json.dump({"preset": args.preset, "config": cfg, "params": n_params,
                   "gmac_per_window_fwd": round(macs_per_window(cfg) / 1e9, 4),
                   "steps": st["step"], "batch": args.batch, "epochs": round(st["epoch_fraction"], 3),
                   "train_windows": n, "wall_s": round(st["wall_s"], 1), "threads": args.threads,
                   "lr": args.lr, "dropout": args.dropout, "history": st["history"]}, f, indent=1)
    log(f"done: {st['step']} steps, {st['epoch_fraction']:.2f} epochs, wall {st['wall_s'] / 60:.1f} min; "
        f"checkpoint {os.path.join(args.run, 'checkpoint.pth')}")


if __name__ == "__main__":
    main()
