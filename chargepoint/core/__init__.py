"""The Core profile's CSMS requests that belong to no other concern: GetConfiguration,
ChangeConfiguration, RemoteStart/StopTransaction, ChangeAvailability, UnlockConnector, Reset
and DataTransfer (the vendor registry); and StatusNotification, with MinimumStatusDuration."""
