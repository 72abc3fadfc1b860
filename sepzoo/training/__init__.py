"""The training engine: :func:`~sepzoo.training.trainer.train` runs a config through ``model.fit`` under a
distribution strategy, with example streams, checkpoints and the early-stopping / fine-tuning schedule."""
