"""Transactions on flash and their messages: StartTransaction, transaction MeterValues and
StopTransaction through the durable queue (§4.10), their answers, and power-loss recovery.
Keys: TransactionMessageAttempts, TransactionMessageRetryInterval, StopTransactionMaxMeterValues,
AllowChargeAfterBrownOut."""
