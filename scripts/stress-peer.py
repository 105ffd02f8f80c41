#!/usr/bin/env python3
"""A NumPy/SciPy peer for `ringfence stress`: the same input, the same Eisenberg–Noe clearing.

    python3 scripts/stress-peer.py generate DIR [--protocols 100000] [--degree 5] [--seed 1]
    python3 scripts/stress-peer.py clear DIR

`generate` writes DIR/chain.toml, DIR/protocols.csv and DIR/claims.csv: a random network like the
crate's synthetic benchmark (about `degree` claims per protocol, amounts uniform in [0.5, 1.5),
external liabilities 20 % of network debts, a 5 % equity buffer, then 10 % of protocols keep only
20 % of their external assets). `ringfence stress DIR/chain.toml --protocols DIR/protocols.csv
--claims DIR/claims.csv --format json` clears it; `clear` does the same in NumPy/SciPy (CSR matrix,
fictitious default algorithm with a Jacobi inner solve) and prints the time of each stage and
the checksum of the payments, to compare with ringfence's. The same line from ringfence, stage by
stage, through the library calls the CLI makes (release build of the stress crate alone):

    cargo run --release -p ringfence-stress --example stress_tables -- DIR out.json

Requires numpy and scipy (`pip install numpy scipy`).
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp


def generate(out: Path, n: int, degree: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    k = rng.integers(1, 2 * degree, size=n)
    debtor = np.repeat(np.arange(n), k)
    creditor = rng.integers(0, n - 1, size=debtor.size)
    creditor = creditor + (creditor >= debtor)
    amount = 0.5 + rng.random(debtor.size)
    owed = np.bincount(debtor, weights=amount, minlength=n)
    due = np.bincount(creditor, weights=amount, minlength=n)
    ext = 0.2 * owed
    capital = 0.05 * np.maximum(owed + ext, 1.0)
    e = np.maximum(owed + ext - due, 0.0) + capital
    shocked = rng.random(n) < 0.1
    e[shocked] *= 0.2
    out.mkdir(parents=True, exist_ok=True)
    (out / "chain.toml").write_text('[[chain]]\nid = "ethereum"\nchain_id = 1\n')
    with open(out / "protocols.csv", "w") as f:
        f.write("id,kind,chain,external_assets_usd,external_liabilities_usd\n")
        for i in range(n):
            f.write(f"p{i},vault,ethereum,{float(e[i])!r},{float(ext[i])!r}\n")
    with open(out / "claims.csv", "w") as f:
        f.write("debtor,creditor,amount_usd\n")
        for d, c, a in zip(debtor, creditor, amount):
            f.write(f"p{d},p{c},{float(a)!r}\n")
    print(f"{n} protocols, {debtor.size} claims in {out}", file=sys.stderr)


def clear(out: Path) -> None:
    t0 = time.perf_counter()
    names = np.loadtxt(out / "protocols.csv", delimiter=",", skiprows=1, usecols=0, dtype=str)
    num = np.loadtxt(out / "protocols.csv", delimiter=",", skiprows=1, usecols=(3, 4), ndmin=2)
    e, ext = num[:, 0].copy(), num[:, 1].copy()
    pair = np.loadtxt(out / "claims.csv", delimiter=",", skiprows=1, usecols=(0, 1), dtype=str, ndmin=2)
    a = np.loadtxt(out / "claims.csv", delimiter=",", skiprows=1, usecols=2, ndmin=1)
    order = np.argsort(names)
    d = order[np.searchsorted(names[order], pair[:, 0])]
    c = order[np.searchsorted(names[order], pair[:, 1])]
    t1 = time.perf_counter()
    n = e.size
    L = sp.csr_matrix((a, (d, c)), shape=(n, n))  # duplicates summed
    pbar = np.asarray(L.sum(axis=1)).ravel() + ext
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(pbar > 0, 1.0 / pbar, 0.0)
    PiT = (sp.diags(inv) @ L).T.tocsr()  # Pi[i][j] = L[i][j] / pbar_i; PiT @ p = received
    t2 = time.perf_counter()
    # Fictitious default algorithm: defaulted set grows; inner solve by Jacobi from above.
    p = pbar.copy()
    waves = 0
    while True:
        received = PiT @ p
        defaulted = e + received < pbar - 1e-12 * np.maximum(1.0, pbar)
        if waves > 0 and np.array_equal(defaulted, last):
            break
        last = defaulted
        waves += 1
        for _ in range(100000):
            new = np.where(defaulted, np.minimum(pbar, e + PiT @ p), pbar)
            if np.max(np.abs(new - p)) <= 1e-13 * max(1.0, pbar.max()):
                p = new
                break
            p = new
    t3 = time.perf_counter()
    print(f"read {t1 - t0:.3f} s · build {t2 - t1:.3f} s · clear {t3 - t2:.3f} s · "
          f"total {t3 - t0:.3f} s · waves {waves} · defaults {int(last.sum())} · "
          f"sum of payments {p.sum():.6f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("dir", type=Path)
    g.add_argument("--protocols", type=int, default=100_000)
    g.add_argument("--degree", type=int, default=5)
    g.add_argument("--seed", type=int, default=1)
    c = sub.add_parser("clear")
    c.add_argument("dir", type=Path)
    args = ap.parse_args()
    if args.cmd == "generate":
        generate(args.dir, args.protocols, args.degree, args.seed)
    else:
        clear(args.dir)


if __name__ == "__main__":
    main()
