"""The audio-driven FLAME stage (ADF) at run time: the ONNX network through onnxruntime.

    channels.py  what the network predicts and the style code it is conditioned on
    runtime.py   load the network (checked against its sidecar) and run it window by window
    driver.py    drive(request): the "adf" driver; style_of_clip: the style encoder
"""

MODEL_FILE = "adf.onnx"  # the network's file name, in a user's models folder or shipped in engine/models
