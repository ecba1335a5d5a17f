"""The agentreel server: the collector, the store and the REST API assembled in one process
(:mod:`.app`), with auth (:mod:`.auth`) and one module per REST resource (:mod:`.routes`)."""

from agentreel.server.app import Server, serve

__all__ = ["Server", "serve"]
