"""What only one vendor's stations do: `wemob`, its custom features (§4.4 of WEG's manual);
`wallbox`, the card UID and the PIN read as idTags. Vendor DataTransfer handlers register with
`core.data_transfer`."""
