"""Readable standalone PyTorch source for a NetStudio model (see source.generate_source)."""
