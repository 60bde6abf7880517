"""The ``%orange`` / ``%%orange`` magic: syntax, interpolation, results and their display,
and ``export/`` (the request as code in other languages). Registered by ``%load_ext orange_nb``."""
