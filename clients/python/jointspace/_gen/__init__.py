"""Code generated from the protos by clients/generate.sh: do not edit."""
