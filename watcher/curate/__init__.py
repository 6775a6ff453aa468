"""Curation: fingerprints of candidates' pictures, groups and sequences, and the score."""
