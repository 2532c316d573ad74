"""The link to the CSMS. `connection` keeps one WebSocket up (reconnect with backoff, the
BootNotification registration of §4.2, Heartbeat, WebSocketPingInterval, MessageTimeout) and is
the outbox every feature sends through; `endpoint` routes the CSMS's CALLs to the features that
own them and answers CALLERROR NotSupported for the rest; `framing` gives malformed frames the
OCPP-J §4.2.3 codes, `datatypes` the values beyond 1.6's types (32-bit integers, dateTime);
`security` holds the whitepaper's SecurityProfile and AuthorizationKey;
`framelog` records every frame; `errors` says in one line why a connect failed.

Features import only `outbox`: the small interface of what a feature may do with the CSMS."""
