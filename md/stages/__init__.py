"""The stages' own logic, one module each, as plain functions: records and settings in, records out.

    problems ─extract─▶ Thought ─execute─▶ JudgedThought ─mix─▶ MixedExample ─train─▶ student
             ─evaluate─▶ Prediction, metrics

A stage knows no config object and no other stage (the import-graph test holds them to it):
md.pipeline puts them in order and keeps their outputs, the entry points `python -m md.<stage>`
build the clients, sandboxes, loggers and models they are handed.
"""
