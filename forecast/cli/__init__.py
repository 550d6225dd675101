"""The `fcast` command line."""

import os

# TensorFlow's C++ start-up chatter is noise on a CLI; set before TF is ever imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
