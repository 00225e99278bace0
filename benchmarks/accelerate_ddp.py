"""Data-parallel training through Hugging Face Accelerate, on CPU processes (gloo).

Run: ``accelerate launch --cpu --num_processes 2 benchmarks/accelerate_ddp.py``
(or ``python benchmarks/accelerate_ddp.py`` for one process).

Each strategy trains on split digits (5 class-incremental experiences) with every
training minibatch cut across the processes and the gradients averaged by DDP. The
script checks that the processes' models stay identical after every experience
(the point of data parallelism) and prints the final average accuracy beside a
single-process run of the same strategy. Only strategies marked compatible in
``skcl.strategies.DATA_PARALLEL_COMPATIBLE`` are run.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from accelerate import Accelerator

import skcl.strategies as strategies
from skcl.benchmarks import split_digits
from skcl.strategies import DATA_PARALLEL_COMPATIBLE, AccelerateMixin


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", nargs="+",
                        default=[n for n, v in DATA_PARALLEL_COMPATIBLE.items()
                                 if v.startswith("yes")])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    acc = Accelerator(cpu=True)
    train, test = split_digits(n_experiences=5, random_state=0)
    X = np.concatenate([e.X for e in test])
    y = np.concatenate([e.y for e in test])
    for name in args.strategies:
        cls = getattr(strategies, name)
        accelerated = type("Accelerated" + name, (AccelerateMixin, cls), {})
        common = dict(max_epochs=3, lr=0.05, batch_size=32, random_state=0)
        net = accelerated(accelerator=acc, **common)
        steps = [train] if name == "JointTraining" else [[exp] for exp in train]
        for exps in steps:
            if name == "JointTraining":
                net.fit(exps)
            else:
                net.partial_fit(exps[0])
            flat = torch.cat([p.detach().reshape(-1) for p in net.module_.parameters()])
            gathered = acc.gather(flat[None])
            same = bool((gathered == gathered[0]).all())
            if not same:
                raise AssertionError(f"{name}: the processes' models differ after "
                                     f"experience {exps[-1].index}")
        acc_dp = float(np.mean(net.predict(X) == y))
        if acc.is_main_process:
            single = cls(**common)
            if name == "JointTraining":
                single.fit(train)
            for exp in train if name != "JointTraining" else []:
                single.partial_fit(exp)
            acc_1 = float(np.mean(single.predict(X) == y))
            print(f"{name:8s} {acc.num_processes} processes: accuracy {acc_dp:.3f}, models "
                  f"identical across processes; 1 process: {acc_1:.3f}", flush=True)


if __name__ == "__main__":
    main()
