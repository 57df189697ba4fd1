"""OCPP-J's transport: WebSocket connections (`connection`), the Central System's server
(`server`) and the Charge Point's client (`client`), over `websockets`' sans-I/O protocol."""
