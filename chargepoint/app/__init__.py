"""The station as a program: settings, the composition root, the CLI and the demo."""
