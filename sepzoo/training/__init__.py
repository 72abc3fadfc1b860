"""Pieces of the training engine behind :func:`sepzoo.train.train`: distribution strategy, example
streams, checkpoints and the early-stopping / fine-tuning schedule."""
