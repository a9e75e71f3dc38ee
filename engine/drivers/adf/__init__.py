"""The audio-driven FLAME stage (ADF) at run time: the ONNX network through onnxruntime."""
