"""Training throughput of a zoo recipe on this machine, and how input-bound its data pipeline is.

Run: ``python benchmarks/train_throughput.py zoo_configs/lightweight_aspp_midi4.yaml [--steps 50]``.
Times ``model.fit`` over ``--steps`` steps twice: fed by the recipe's own ``tf.data`` pipeline, and fed by
the same batches held in memory. Prints steps/s, examples/s and the input-bound fraction
``1 - t_memory / t_pipeline`` (0 = the model is the bottleneck, 1 = the data is). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np

    from sepzoo.config import load_config
    from sepzoo.training.trainer import _compile, build_model
    from sepzoo.training.data import TRAIN, make_dataset, make_split_source

    config = load_config(args.config, args.overrides)
    model = build_model(config)
    _compile(model, config)
    source = make_split_source(config, TRAIN, config.seed)
    dataset = make_dataset(source, config.batch_size, model.context_samples, model.target_samples,
                           shuffle_buffer=config.data.shuffle_buffer)
    batches = list(dataset.take(args.steps + 2).as_numpy_iterator())
    x = np.concatenate([b[0] for b in batches[2:]])
    y = np.concatenate([b[1] for b in batches[2:]])
    model.fit(dataset, steps_per_epoch=2, epochs=1, verbose=0)  # compile the step function

    start = time.perf_counter()
    model.fit(dataset, steps_per_epoch=args.steps, epochs=1, verbose=0)
    pipeline_s = time.perf_counter() - start
    start = time.perf_counter()
    model.fit(x, y, batch_size=config.batch_size, epochs=1, verbose=0, shuffle=False)
    memory_s = time.perf_counter() - start

    examples = args.steps * config.batch_size
    print(f"config: {args.config} (batch {config.batch_size}, {model.count_params():,} params, {os.cpu_count()} CPUs)")
    print("| feed | seconds | steps/s | examples/s |\n| --- | ---: | ---: | ---: |")
    for name, seconds in (("tf.data pipeline", pipeline_s), ("in-memory arrays", memory_s)):
        print(f"| {name} | {seconds:.1f} | {args.steps / seconds:.2f} | {examples / seconds:.1f} |")
    print(f"input-bound fraction: {max(0.0, 1 - memory_s / pipeline_s):.2f}")


if __name__ == "__main__":
    main()
