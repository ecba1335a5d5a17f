"""The version agentreel reports (REST, export documents, ``--version``)."""

__version__ = "0.1.0"
