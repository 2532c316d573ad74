"""Many stations in one process, for load-testing a CSMS: `chargepoint fleet run|status|merge`.

Each station is the full Station with its own data directory; the fleet adds what only a crowd
needs: identities from a pattern and a shard index, the automatic driver sessions, one link
observer collecting round-trip latencies and errors for the summary, one control socket, and
the process's open-file limit. It owns no OCPP message.
"""
