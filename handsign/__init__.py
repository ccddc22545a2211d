"""HandSign's one command: ``handsign run|bench|evaluate|teach|predict|train|export ...``.

The top of the house: it only dispatches to the packages' own commands (``python -m realtime.run``
and the rest), importing each on demand so that the live commands never load TensorFlow.
"""
