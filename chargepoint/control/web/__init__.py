"""The bench's web page: each connector live, the bench buttons, the configuration keys and the
frame log, for one station or a fleet of them. It drives the station through the control
socket's own handlers, so the page and the CLI always give the same answers."""
