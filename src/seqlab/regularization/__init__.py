"""Regularization room: penalties, dropout variants, noise, smoothing, augmentation."""
