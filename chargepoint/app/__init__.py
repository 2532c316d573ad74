"""The station as a program: the composition root (`station`), which features exist
(`features`, the source of SupportedFeatureProfiles), settings, the CLI and the demo."""
