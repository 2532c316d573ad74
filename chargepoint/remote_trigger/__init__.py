"""TriggerMessage: the Remote Trigger profile."""
