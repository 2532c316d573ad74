"""The Core profile's CSMS requests that belong to no other concern, and StatusNotification."""
