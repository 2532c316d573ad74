"""The local control socket: bench and configuration commands for technicians and tests."""
