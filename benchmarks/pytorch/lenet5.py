#!/usr/bin/python3
"""PyTorch peer of the ModelGen LeNet-5 benchmark.

Same network, data, optimizer and measurements as the TorchSharp peer (../TorchSharpPeer), so that the
numbers of both peers and of ModelGen can be set side by side. Written for Debian's python3-torch, which is
installed for /usr/bin/python3 (not for another python3 that may come first on PATH):

    /usr/bin/python3 benchmarks/pytorch/lenet5.py --data DIR [--epochs 2] [--threads 2] [--limit N] [--seed 42]

DIR holds train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte
(raw or .gz). The last output line is `RESULT {json}`.
"""
import argparse
import gzip
import json
import os
import statistics
import struct
import sys
import time

try:
    import numpy as np
    import torch
    import torch.nn as nn
except ImportError as e:  # pragma: no cover - depends on the machine
    sys.exit(f"error: {e}. Install Debian's python3-torch and run this script with /usr/bin/python3.")

BATCH_SIZE = 32
INFERENCE_BATCH_SIZE = 100
PREDICT_CALLS = 1000
EVAL_START = 5000


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
    if len(data) < 4:
        raise ValueError(f"{name}: truncated header; download it again.")
    (header,) = struct.unpack(">i", data[:4])
    if header != magic:
        raise ValueError(f"{name}: magic number {header}, expected {magic}; is this an MNIST IDX file?")
    rank = magic & 0xFF
    dims = struct.unpack(f">{rank}i", data[4:4 + 4 * rank])
    offset = 4 + 4 * rank
    total = int(np.prod(dims))
    if len(data) - offset < total:
        raise ValueError(f"{name}: truncated ({len(data) - offset} bytes of data, {total} expected); download it again.")
    return np.frombuffer(data, dtype=np.uint8, count=total, offset=offset).reshape(dims)


def load_mnist(folder, prefix, limit=None):
    images = read_idx(folder, f"{prefix}-images-idx3-ubyte", 2051)
    labels = read_idx(folder, f"{prefix}-labels-idx1-ubyte", 2049)
    if len(images) != len(labels):
        raise ValueError(f"{prefix}: {len(images)} images but {len(labels)} labels; the files do not belong together.")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    x = torch.from_numpy(images.astype(np.float32) / np.float32(255.0)).unsqueeze(1).contiguous()
    y = torch.from_numpy(labels.astype(np.int64))
    return x, y


def lenet5():
    """LeNet-5 with 'same' padding: 107,786 parameters, Glorot-uniform weights, zero biases. Outputs logits:
    the softmax of the last layer is applied by the loss in training and explicitly in prediction."""
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


def warm_up(model, loss_fn, x, y):
    """Forward and backward passes without an optimizer step: one-time costs stay out of the first timed epoch
    while the weights stay untouched."""
    model.train()
    n = min(BATCH_SIZE, len(y))
    for _ in range(3):
        loss_fn(model(x[:n]), y[:n]).backward()
    for p in model.parameters():
        p.grad = None


def measure_predict(model, test_x):
    image = test_x[:1].clone()
    times = []
    with torch.no_grad():
        for _ in range(50):
            torch.softmax(model(image), 1)[0, 0].item()
        for _ in range(PREDICT_CALLS):
            t0 = time.perf_counter()
            torch.softmax(model(image), 1)[0, 0].item()
            times.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(times)


def measure_inference(model, test_x):
    n = len(test_x)
    with torch.no_grad():
        torch.softmax(model(test_x[:INFERENCE_BATCH_SIZE]), 1)[0, 0].item()
        t0 = time.perf_counter()
        for start in range(0, n, INFERENCE_BATCH_SIZE):
            torch.softmax(model(test_x[start:start + INFERENCE_BATCH_SIZE]), 1)[0, 0].item()
        seconds = time.perf_counter() - t0
    return n / seconds


def evaluate(model, x, y, start):
    with torch.no_grad():
        predicted = model(x[start:]).argmax(1)
        return (predicted == y[start:]).sum().item() / (len(y) - start)


def positive_int(text):
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got '{text}'")
    return value


def non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got '{text}'")
    return value


def main():
    parser = argparse.ArgumentParser(description="PyTorch peer of the ModelGen LeNet-5 benchmark (run with /usr/bin/python3).")
    parser.add_argument("--data", required=True, help="folder with the four MNIST IDX files (raw or .gz)")
    parser.add_argument("--epochs", type=positive_int, default=2)
    parser.add_argument("--threads", type=positive_int, default=2)
    parser.add_argument("--limit", type=positive_int, default=None, help="first N training images (default all)")
    parser.add_argument("--seed", type=non_negative_int, default=42)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.threads)
    torch.manual_seed(args.seed)

    try:
        train_x, train_y = load_mnist(args.data, "train", args.limit)
        test_x, test_y = load_mnist(args.data, "t10k")
    except (OSError, ValueError) as e:
        sys.exit(f"error: {e}")
    n = len(train_y)
    print(f"PyTorch {torch.__version__}, threads {args.threads}, train {n}, test {len(test_y)}, "
          f"epochs {args.epochs}, batch {BATCH_SIZE}, seed {args.seed}")

    model = lenet5()
    print(f"parameters: {sum(p.numel() for p in model.parameters())}")
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    shuffle = torch.Generator().manual_seed(args.seed)

    warm_up(model, loss_fn, train_x, train_y)

    epoch_seconds = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        loss_total = torch.zeros(())
        batches = 0
        t0 = time.perf_counter()
        order = torch.randperm(n, generator=shuffle)
        for start in range(0, n, BATCH_SIZE):
            idx = order[start:start + BATCH_SIZE]
            x, y = train_x[idx], train_y[idx]
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            # Summed as a tensor so that the loop does not read a scalar back each batch.
            loss_total += loss.detach()
            batches += 1
        seconds = time.perf_counter() - t0
        epoch_seconds.append(seconds)
        print(f"epoch {epoch}: {seconds:.3f} s, {n / seconds:.0f} images/s, mean loss {loss_total.item() / batches:.4f}")

    model.eval()
    predict_us = measure_predict(model, test_x)
    infer_images_per_s = measure_inference(model, test_x)
    accuracy = evaluate(model, test_x, test_y, EVAL_START)

    median_epoch = statistics.median(epoch_seconds)
    train_images_per_s = n / median_epoch
    print(f"training: {train_images_per_s:.0f} images/s (median epoch {median_epoch:.3f} s)")
    print(f"predict (1 image): median {predict_us:.1f} us over {PREDICT_CALLS} calls")
    print(f"inference (batch {INFERENCE_BATCH_SIZE}): {infer_images_per_s:.0f} images/s over {len(test_y)} images")
    print(f"final accuracy (test {EVAL_START}..{len(test_y) - 1}): {accuracy:.4f}")
    result = {
        "peer": "pytorch",
        "version": torch.__version__,
        "threads": args.threads,
        "epochs": args.epochs,
        "train_images": n,
        "seed": args.seed,
        "train_images_per_s": round(train_images_per_s, 1),
        "epoch_seconds": [round(s, 4) for s in epoch_seconds],
        "predict_us_median": round(predict_us, 2),
        "infer_images_per_s": round(infer_images_per_s, 1),
        "final_accuracy": round(accuracy, 4),
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
