"""TriggerMessage (Remote Trigger profile): the CSMS asks for a message now."""
