"""HandSign live tool: webcam frames -> MediaPipe hands -> square crops -> ONNX gestures -> overlay.

Never imports TensorFlow: this package installs and runs with the base dependencies alone.
"""
