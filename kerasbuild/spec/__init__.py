"""Spec loading: files with positions, the three accepted forms, blocks, placeholders."""
