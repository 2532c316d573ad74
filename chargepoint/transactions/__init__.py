"""Transactions: their lifecycle on flash, the durable message queue, answers and recovery."""
