"""What every part of agentreel shares: the normalized model, the "same call" rules, content
addressing, scores, prices, redaction, provider tables and text helpers.

Standard library and orjson only, and genai-prices (a dependency of the SDK install too) for
the maintained price data, imported on the first price lookup; nothing here imports another
part of agentreel, so the SDK install, the collector, storage and replay can all import it.
"""
