"""Reservation (§3.11, §5.13, §5.1): ReserveNow and CancelReservation, the reservations on flash,
their end at expiryDate, and the say over who may start on a reserved connector (the reserved
idTag or its parentIdTag group; StartTransaction then carries the reservationId). The connector
shows Reserved through its derived status. Key: ReserveConnectorZeroSupported. Served only where
the model lists the profile or the `extra_profiles` setting adds it (neither vendor does)."""
