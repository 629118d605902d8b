"""Offline training, evaluation and comparison of genre models, and conversion of pretrained weights."""
