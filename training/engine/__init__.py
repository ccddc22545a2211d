"""Training runs: the typed configuration and choices (``config``, ``options``: no TensorFlow), the
phases as functions (``phases``), distribution strategies (``distribute``) and the history file
(``history``)."""
