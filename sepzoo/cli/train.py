"""``sepzoo train CONFIG [--set key.sub=value ...] [-o DIR]`` and ``sepzoo train --resume DIR``."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from sepzoo.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", nargs="?", help="training config YAML (see zoo_configs/)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set schedule.patience=5 (repeatable)")
    parser.add_argument("-o", "--out", help="run folder (default: runs/<config name>)")
    parser.add_argument("--resume", metavar="DIR",
                        help="continue the run in DIR from its last checkpoint (CONFIG and --set not needed); "
                             "to extend a finished run, edit DIR/config.yaml first (fine_tune, max_epochs)")


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: `sepzoo --help` imports this module (see sepzoo.cli).
    from sepzoo.config import load_config
    from sepzoo.training.trainer import train

    command = shlex.join(["sepzoo", *sys.argv[1:]])
    if args.resume:
        if args.config or args.overrides:
            raise ConfigError("sepzoo train --resume: a resumed run keeps its own config.yaml; "
                              "drop CONFIG and --set, or start a new run with -o")
        preset = train(None, args.resume, resume=True, command=command)
    else:
        if not args.config:
            raise ConfigError("sepzoo train: no CONFIG given; pass a YAML file such as zoo_configs/tiny_tones.yaml")
        config = load_config(args.config, args.overrides)
        preset = train(config, args.out or Path("runs") / config.name, command=command)
    print(preset)
    return 0
