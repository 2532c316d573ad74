"""What only one vendor's stations do: `wallbox`, the card UID read as the idTag. Vendor DataTransfer
handlers register with `core.data_transfer`."""
