"""Extractive, retrieval-augmented Q&A over a small corpus: every answer quotes the corpus verbatim.

Data flows one way: corpus -> chunking -> index -> retrieval -> answer -> (cli | web | eval).
"""
__version__ = "0.1.0"
