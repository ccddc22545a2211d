"""The networks: EfficientNet-B0 / Lite0 and the baseline CNN (``builder``), ImageNet weights
(``pretrained``, read by ``torch_pickle``), the cached-feature head (``head``) and loading a trained
model for prediction (``inference``). Imported by module: each one loads TensorFlow."""
