"""Curation: fingerprints of pictures, the groups and sequences they form, their scores."""
