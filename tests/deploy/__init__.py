"""The deployment files (deploy/) checked against the code they start, so neither can drift from the other."""
