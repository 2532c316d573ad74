"""A connector: its facts, the status derived from them (§4.9, errata 3.20), and the flow of
cable, idTag and transaction that changes them. Keys: ConnectionTimeOut,
StopTransactionOnEVSideDisconnect, UnlockConnectorOnEVSideDisconnect, StopTransactionOnInvalidId,
MaxEnergyOnInvalidId. Sends nothing itself: StatusNotification comes from `core`, transaction
messages from `transactions`."""
