"""Config: the validated configuration tree of HTM Edge (a leaf package)."""
