"""The Brain-ResNet / MetaChrom network in PyTorch, written from
../shared/spec/architecture.md (not from the original code).

Key names and shapes match the published checkpoint; every width is a config
value so narrower presets keep the same layout. `MetaChrom(cfg)` returns the
31 probabilities; `forward_logits` returns the pre-sigmoid head output (for a
numerically stable BCE in training; same function).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

SEQ_LEN = 1000

FULL = {"meta": [320, 480, 960], "meta_out": 919, "stem": 48,
        "blocks": [96, 128, 256, 512], "hidden": 1000, "n_out": 31}


def scaled(f):
    def r(x):
        return max(4, int(round(x * f)))
    return {"meta": [r(c) for c in FULL["meta"]], "meta_out": r(FULL["meta_out"]),
            "stem": r(FULL["stem"]), "blocks": [r(c) for c in FULL["blocks"]],
            "hidden": r(FULL["hidden"]), "n_out": 31}


PRESETS = {
    "full": FULL,
    "w1/2": scaled(1 / 2),
    "w3/8": scaled(3 / 8),
    "w1/4": scaled(1 / 4),
    "w3/16": scaled(3 / 16),
    "w1/8": scaled(1 / 8),
    # the shape of ../shared/fixtures/model/metachrom-mini.pth
    "mini": {"meta": [16, 24, 32], "meta_out": 40, "stem": 8, "blocks": [12, 16, 24, 32],
             "hidden": 64, "n_out": 31},
}


def _len_after_meta(n=SEQ_LEN):
    for _ in range(3):
        n = (n - 7) // 4  # conv k8 no padding, then maxpool 4/4
    return n  # 13


class MetaFeatures(nn.Module):
    """Branch 1 (`base_model.*`): DeepSEA-like, no batch norm."""

    def __init__(self, c, out, dropout=(0.2, 0.2, 0.5)):
        super().__init__()
        self.conv_net = nn.Sequential(
            nn.Conv1d(4, c[0], 8), nn.ReLU(), nn.MaxPool1d(4, 4), nn.Dropout(dropout[0]),
            nn.Conv1d(c[0], c[1], 8), nn.ReLU(), nn.MaxPool1d(4, 4), nn.Dropout(dropout[1]),
            nn.Conv1d(c[1], c[2], 8), nn.ReLU(), nn.MaxPool1d(4, 4), nn.Dropout(dropout[2]),
        )
        self.classifier = nn.Sequential(
            nn.Linear(c[2] * _len_after_meta(), out), nn.ReLU(),
            nn.Linear(out, out), nn.Sigmoid(),
        )

    def forward_logits(self, x):
        h = self.conv_net(x).flatten(1)  # channel-major: c * 13 + t
        return self.classifier[2](self.classifier[1](self.classifier[0](h)))

    def forward(self, x):
        return torch.sigmoid(self.forward_logits(x))


class Block(nn.Module):
    """out = relu(conv2(relu(conv1(x)))) + shortcut(x); bn1/bn2 exist but are unused."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv1d(cin, cout, 7, padding=3)
        self.bn1 = nn.BatchNorm1d(cout)
        self.conv2 = nn.Conv1d(cout, cout, 7, padding=3)
        self.bn2 = nn.BatchNorm1d(cout)
        self.downsample = None
        if cin != cout:
            self.downsample = nn.Sequential(nn.Conv1d(cin, cout, 1, bias=False), nn.BatchNorm1d(cout))

    def forward(self, x):
        short = x if self.downsample is None else self.downsample(x)
        return F.relu(self.conv2(F.relu(self.conv1(x)))) + short


class SeqResNet(nn.Module):
    """Branch 2 (`seq_model.*`)."""

    def __init__(self, stem, blocks, hidden, n_out):
        super().__init__()
        self.conv1 = nn.Conv1d(4, stem, 7, padding=3)
        self.bn1 = nn.BatchNorm1d(stem)
        chans = [stem] + list(blocks)
        for i in range(4):
            setattr(self, f"layer{i + 1}", nn.Sequential(Block(chans[i], chans[i + 1]),
                                                         Block(chans[i + 1], chans[i + 1])))
        n = SEQ_LEN
        for _ in range(5):
            n //= 3  # 333, 111, 37, 12, 4
        self.classifier = nn.Sequential(
            nn.Linear(blocks[-1] * n, hidden), nn.ReLU(),
            nn.Linear(hidden, n_out), nn.ReLU(),
            nn.Linear(n_out, n_out), nn.Sigmoid(),
        )

    def forward_logits(self, x):
        x = F.max_pool1d(F.relu(self.bn1(self.conv1(x))), 3, 3)
        for i in range(4):
            x = F.max_pool1d(getattr(self, f"layer{i + 1}")(x), 3, 3)
        h = x.flatten(1)
        for i in range(5):
            h = self.classifier[i](h)
        return h

    def forward(self, x):
        return torch.sigmoid(self.forward_logits(x))


class MetaChrom(nn.Module):
    def __init__(self, cfg, dropout=(0.2, 0.2, 0.5)):
        super().__init__()
        self.cfg = dict(cfg)
        self.base_model = MetaFeatures(cfg["meta"], cfg["meta_out"], dropout)
        self.seq_model = SeqResNet(cfg["stem"], cfg["blocks"], cfg["hidden"], cfg["n_out"])
        self.classifier = nn.Sequential(
            nn.Linear(cfg["meta_out"] + cfg["n_out"], cfg["n_out"]), nn.ReLU(),
            nn.Linear(cfg["n_out"], cfg["n_out"]), nn.Sigmoid(),
        )

    def forward_logits(self, x, aux=False):
        meta = self.base_model.forward_logits(x)
        seq = self.seq_model.forward_logits(x)
        h = torch.cat([torch.sigmoid(meta), torch.sigmoid(seq)], 1)  # meta first
        out = self.classifier[2](self.classifier[1](self.classifier[0](h)))
        return (out, meta, seq) if aux else out

    def forward(self, x):
        return torch.sigmoid(self.forward_logits(x))

    def forward_train(self, x):
        """Everything the training losses look at (same computation as forward):
        out (head logits), meta (meta-branch logits), seq_pre (pre-ReLU of the 31-wide
        `seq_model.classifier.2`), seq (residual-branch logits), head_pre (pre-ReLU of
        the 31-wide `classifier.0`)."""
        meta = self.base_model.forward_logits(x)
        sm = self.seq_model
        h = F.max_pool1d(F.relu(sm.bn1(sm.conv1(x))), 3, 3)
        for i in range(4):
            h = F.max_pool1d(getattr(sm, f"layer{i + 1}")(h), 3, 3)
        h = sm.classifier[1](sm.classifier[0](h.flatten(1)))
        seq_pre = sm.classifier[2](h)
        seq = sm.classifier[4](F.relu(seq_pre))
        head_pre = self.classifier[0](torch.cat([torch.sigmoid(meta), torch.sigmoid(seq)], 1))
        out = self.classifier[2](F.relu(head_pre))
        return {"out": out, "meta": meta, "seq_pre": seq_pre, "seq": seq, "head_pre": head_pre}


def init_weights(model, prior=None):
    """Training initialisation (the architecture is unchanged): He (Kaiming) normal
    weights and zero biases for convolutions and linear layers; the two output layers
    (`seq_model.classifier.4`, `classifier.2`) start with the logit of the label prior
    as bias when `prior` is given."""
    for mod in model.modules():
        if isinstance(mod, (nn.Conv1d, nn.Linear)):
            nn.init.kaiming_normal_(mod.weight, nonlinearity="relu")
            if mod.bias is not None:
                nn.init.zeros_(mod.bias)
    if prior is not None:
        with torch.no_grad():
            p = torch.as_tensor(prior, dtype=torch.float32).clamp(1e-3, 1 - 1e-3)
            for lin in (model.seq_model.classifier[4], model.classifier[2]):
                lin.bias.copy_(torch.log(p / (1 - p)))


def macs_per_window(cfg):
    """Multiply-adds of one forward pass (convs and linears)."""
    m = cfg["meta"]
    n, total, cin = SEQ_LEN, 0, 4
    for c in m:
        n = n - 7
        total += n * c * cin * 8
        n //= 4
        cin = c
    total += m[2] * n * cfg["meta_out"] + cfg["meta_out"] ** 2
    n = SEQ_LEN
    total += n * cfg["stem"] * 4 * 7
    n //= 3
    cin = cfg["stem"]
    for c in cfg["blocks"]:
        total += n * (c * cin * 7 + c * c * 7 * 3 + (c * cin if c != cin else 0))
        cin = c
        n //= 3
    total += cfg["blocks"][-1] * n * cfg["hidden"] + cfg["hidden"] * cfg["n_out"] + cfg["n_out"] ** 2
    total += (cfg["meta_out"] + cfg["n_out"]) * cfg["n_out"] + cfg["n_out"] ** 2
    return total


def config_from_state_dict(sd):
    """Read every width from the tensors (like the Rust loader does)."""
    sd = {k[len("module."):] if k.startswith("module.") else k: v for k, v in sd.items()}
    return {"meta": [sd[f"base_model.conv_net.{i}.weight"].shape[0] for i in (0, 4, 8)],
            "meta_out": sd["base_model.classifier.2.weight"].shape[0],
            "stem": sd["seq_model.conv1.weight"].shape[0],
            "blocks": [sd[f"seq_model.layer{i}.0.conv1.weight"].shape[0] for i in range(1, 5)],
            "hidden": sd["seq_model.classifier.0.weight"].shape[0],
            "n_out": sd["classifier.2.weight"].shape[0]}


# A, G, C, T channel order (DeepSEA convention); anything else is a zero column.
_ONEHOT = torch.zeros(256, 4)
for _i, _b in enumerate("AGCT"):
    _ONEHOT[ord(_b), _i] = 1.0
    _ONEHOT[ord(_b.lower()), _i] = 1.0


def one_hot(seqs_u8):
    """uint8 ASCII (B, L<=1000) tensor or numpy array -> float (B, 4, 1000), right zero-padded."""
    t = torch.as_tensor(seqs_u8).long()
    x = _ONEHOT[t].permute(0, 2, 1)
    if x.shape[2] < SEQ_LEN:
        x = F.pad(x, (0, SEQ_LEN - x.shape[2]))
    return x.contiguous()
