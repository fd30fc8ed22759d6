#!/usr/bin/env python3
"""PyTorch CPU reference throughput for the full-size Brain-ResNet / MetaChrom network.

Written from shared/spec/architecture.md only (independent implementation, random
weights). Module names follow the checkpoint key layout of the spec
(base_model.*, seq_model.*, classifier.*), so state_dict() has the same keys/shapes.

Install: see benches/requirements-pytorch.txt (venv outside the repo).
Usage:   python benches/pytorch_reference.py --threads 2 --batch 8 --seconds 10
Output:  one JSON line on stdout; parameter counts on stderr.
"""
import argparse
import json
import sys
import time

import torch
from torch import nn

GMAC_PER_WINDOW = 0.78  # spec: ~0.78 G multiply-adds per window


class MetaBranch(nn.Module):
    """DeepSEA-like branch: 3 x (conv k8 + relu + maxpool4), then 12480 -> 919 -> 919."""

    def __init__(self):
        super().__init__()
        self.conv_net = nn.Sequential(
            nn.Conv1d(4, 320, 8), nn.ReLU(), nn.MaxPool1d(4, 4), nn.Dropout(),
            nn.Conv1d(320, 480, 8), nn.ReLU(), nn.MaxPool1d(4, 4), nn.Dropout(),
            nn.Conv1d(480, 960, 8), nn.ReLU(), nn.MaxPool1d(4, 4), nn.Dropout(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(960 * 13, 919), nn.ReLU(), nn.Linear(919, 919), nn.Sigmoid(),
        )

    def forward(self, x):
        h = self.conv_net(x)
        return self.classifier(h.flatten(1))  # channel-major: c * 13 + t


class Block(nn.Module):
    """out = relu(conv2(relu(conv1(x)))) + shortcut(x); bn1/bn2 exist but are unused."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = nn.Conv1d(cin, cout, 7, padding=3)
        self.bn1 = nn.BatchNorm1d(cout)  # present in checkpoint, unused
        self.conv2 = nn.Conv1d(cout, cout, 7, padding=3)
        self.bn2 = nn.BatchNorm1d(cout)  # present in checkpoint, unused
        self.downsample = None
        if cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv1d(cin, cout, 1, bias=False), nn.BatchNorm1d(cout))

    def forward(self, x):
        out = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        sc = x if self.downsample is None else self.downsample(x)
        return out + sc


class SeqResNet(nn.Module):
    def __init__(self, widths=(48, 96, 128, 256, 512)):
        super().__init__()
        self.conv1 = nn.Conv1d(4, widths[0], 7, padding=3)
        self.bn1 = nn.BatchNorm1d(widths[0])
        self.pool = nn.MaxPool1d(3, 3)
        for i in range(4):
            setattr(self, f"layer{i + 1}", nn.Sequential(
                Block(widths[i], widths[i + 1]), Block(widths[i + 1], widths[i + 1])))
        self.classifier = nn.Sequential(
            nn.Linear(widths[4] * 4, 1000), nn.ReLU(),
            nn.Linear(1000, 31), nn.ReLU(),
            nn.Linear(31, 31), nn.Sigmoid(),
        )

    def forward(self, x):
        h = self.pool(torch.relu(self.bn1(self.conv1(x))))  # 48 x 333
        for layer in (self.layer1, self.layer2, self.layer3, self.layer4):
            h = self.pool(layer(h))  # 111, 37, 12, 4
        return self.classifier(h.flatten(1))


class BrainResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.base_model = MetaBranch()
        self.seq_model = SeqResNet()
        self.classifier = nn.Sequential(
            nn.Linear(919 + 31, 31), nn.ReLU(), nn.Linear(31, 31), nn.Sigmoid())

    def forward(self, x):
        return self.classifier(torch.cat([self.base_model(x), self.seq_model(x)], dim=1))


def randomize_bn(model, gen):
    """Give BatchNorm non-trivial running stats so the BN path is not a no-op."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm1d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.1)


def random_onehot(batch, gen):
    idx = torch.randint(0, 4, (batch, 1000), generator=gen)
    return torch.nn.functional.one_hot(idx, 4).permute(0, 2, 1).contiguous().float()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=10.0, help="time budget after warm-up")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    model = BrainResNet()
    with torch.no_grad():
        randomize_bn(model, gen)
    model.eval()

    n_params = sum(p.numel() for p in model.parameters())
    n_state = sum(t.numel() for t in model.state_dict().values())
    print(f"parameters(): {n_params:,}  state_dict elements: {n_state:,}  "
          f"state_dict keys: {len(model.state_dict())}", file=sys.stderr)

    x = random_onehot(args.batch, gen)
    with torch.inference_mode():
        y = model(x)  # warm-up
        assert y.shape == (args.batch, 31), y.shape
        windows = 0
        t0 = time.perf_counter()
        while True:
            model(x)
            windows += args.batch
            elapsed = time.perf_counter() - t0
            if elapsed >= args.seconds:
                break

    wps = windows / elapsed
    print(json.dumps({
        "engine": "pytorch",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "windows": windows,
        "seconds": round(elapsed, 3),
        "windows_per_s": round(wps, 2),
        "gmac_per_s": round(wps * GMAC_PER_WINDOW, 2),
        "parameters": n_params,
        "state_dict_elements": n_state,
    }))


if __name__ == "__main__":
    main()
