"""What only one vendor's stations do."""
