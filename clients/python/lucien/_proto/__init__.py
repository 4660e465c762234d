"""Generated gRPC stubs (scripts/gen-python-stubs.sh). Do not edit by hand."""
