#!/usr/bin/env python3
"""PyTorch side of the GPU check: the same LeNet-5, data, optimizer and batch sizes as GpuCheck, on the same GPU.

    python3 benchmarks/gpu/lenet5_gpu.py --data DIR [--batches 32,128,512] [--epochs 2] [--limit N] [--seed 42]
                                         [--device cuda|cpu] [--tf32]

DIR holds train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (raw
or .gz). The whole training set sits on the device; each epoch is shuffled on the device (torch.randperm) and timed
with torch.cuda.synchronize() around the training loop only. TF32 is off unless --tf32 (ModelGen computes in full
float32). The last output line is `RESULT {json}`.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn as nn
except ImportError as e:  # pragma: no cover - depends on the machine
    sys.exit(f"error: {e}. This script needs PyTorch and NumPy.")


def read_idx(folder, name, magic):
    path = os.path.join(folder, name)
    if os.path.exists(path):
        with open(path, "rb") as f:
            data = f.read()
    elif os.path.exists(path + ".gz"):
        with gzip.open(path + ".gz", "rb") as f:
            data = f.read()
    else:
        raise FileNotFoundError(f"{name} (or {name}.gz) not found in '{folder}'; pass the MNIST folder with --data DIR.")
    (header,) = struct.unpack(">i", data[:4])
    if header != magic:
        raise ValueError(f"{name}: magic number {header}, expected {magic}; is this an MNIST IDX file?")
    rank = magic & 0xFF
    dims = struct.unpack(f">{rank}i", data[4:4 + 4 * rank])
    offset = 4 + 4 * rank
    total = int(np.prod(dims))
    if len(data) - offset < total:
        raise ValueError(f"{name}: truncated; copy it again.")
    return np.frombuffer(data, dtype=np.uint8, count=total, offset=offset).reshape(dims)


def load(folder, prefix, limit, device):
    images = read_idx(folder, f"{prefix}-images-idx3-ubyte", 2051)
    labels = read_idx(folder, f"{prefix}-labels-idx1-ubyte", 2049)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    x = torch.from_numpy(images.astype(np.float32) / np.float32(255.0)).unsqueeze(1).contiguous().to(device)
    y = torch.from_numpy(labels.astype(np.int64)).to(device)
    return x, y


def lenet5():
    """LeNet-5 with 'same' padding (107,786 parameters), Glorot-uniform weights, zero biases; outputs logits."""
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5, padding=2), nn.Tanh(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 7 * 7, 120), nn.Tanh(),
        nn.Linear(120, 84), nn.Tanh(),
        nn.Linear(84, 10))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith(".bias"):
                nn.init.zeros_(p)
            else:
                nn.init.xavier_uniform_(p)
    return model


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def batch_sizes(text):
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 32,128,512, got '{text}'")
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"batch sizes must be positive, got '{text}'")
    return values


def positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got '{text}'")
    return value


def main():
    parser = argparse.ArgumentParser(description="PyTorch LeNet-5 epochs on the GPU, beside ModelGen's GpuCheck.")
    parser.add_argument("--data", required=True, help="folder with the four MNIST IDX files (raw or .gz)")
    parser.add_argument("--batches", type=batch_sizes, default=[32, 128, 512])
    parser.add_argument("--epochs", type=positive_int, default=2)
    parser.add_argument("--limit", type=positive_int, default=None, help="first N training images (default all)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu, to try the script without a GPU")
    parser.add_argument("--tf32", action="store_true", help="allow TF32 in convolutions and matrix products")
    args = parser.parse_args()

    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("error: PyTorch sees no CUDA device; run on the GPU machine, or pass --device cpu to try the script.")
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = args.tf32
    torch.backends.cuda.matmul.allow_tf32 = args.tf32

    try:
        train_x, train_y = load(args.data, "train", args.limit, device)
        test_x, test_y = load(args.data, "t10k", None, device)
    except (OSError, ValueError) as e:
        sys.exit(f"error: {e}")
    n = len(train_y)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"PyTorch {torch.__version__} on {name}, {n} training images, epochs {args.epochs}, batches {args.batches}, "
          f"tf32 {'on' if args.tf32 else 'off'}")

    runs = []
    for batch in args.batches:
        torch.manual_seed(args.seed)
        model = lenet5().to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-7)
        loss_fn = nn.CrossEntropyLoss()
        generator = torch.Generator(device=device).manual_seed(args.seed)

        # Warm-up (cuDNN algorithm search, allocator): forward/backward passes at this batch size, no optimizer step.
        for _ in range(3):
            loss_fn(model(train_x[:batch]), train_y[:batch]).backward()
        for p in model.parameters():
            p.grad = None
        sync(device)

        epoch_seconds = []
        for epoch in range(1, args.epochs + 1):
            model.train()
            loss_total = torch.zeros((), device=device)
            correct = torch.zeros((), dtype=torch.int64, device=device)
            sync(device)
            t0 = time.perf_counter()
            order = torch.randperm(n, generator=generator, device=device)
            for start in range(0, n, batch):
                idx = order[start:start + batch]
                x, y = train_x[idx], train_y[idx]
                optimizer.zero_grad(set_to_none=True)
                logits = model(x)
                loss = loss_fn(logits, y)
                loss.backward()
                optimizer.step()
                # Accumulated on the device: no host round trip per step.
                loss_total += loss.detach() * len(idx)
                correct += (logits.detach().argmax(1) == y).sum()
            sync(device)
            seconds = time.perf_counter() - t0
            epoch_seconds.append(seconds)
            print(f"batch {batch}, epoch {epoch}: {seconds:.3f} s, {n / seconds:.0f} images/s, "
                  f"loss {loss_total.item() / n:.4f}, accuracy {correct.item() / n:.4f}", flush=True)

        model.eval()
        with torch.no_grad():
            accuracy = (model(test_x[5000:]).argmax(1) == test_y[5000:]).float().mean().item()
        best = min(epoch_seconds)
        print(f"batch {batch}: best {n / best:.0f} images/s; final-evaluation accuracy {accuracy:.4f}")
        runs.append({
            "batch": batch,
            "epoch_seconds": [round(s, 4) for s in epoch_seconds],
            "images_per_second": round(n / best),
            "eval_accuracy": round(accuracy, 4),
        })

    print("RESULT " + json.dumps({"peer": "pytorch", "version": torch.__version__, "device": name,
                                  "images": n, "tf32": args.tf32, "runs": runs}), flush=True)


if __name__ == "__main__":
    main()
