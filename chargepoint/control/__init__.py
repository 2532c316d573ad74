"""The local control socket: bench and configuration commands for technicians and tests, and
the bench's web page (`run --web`) that drives the same commands from a browser."""
