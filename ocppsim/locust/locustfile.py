"""ocppsim's fleet on Locust: every user is a Charge Point of the fleet (`--cps-per-user` of
them) that boots, reports its connectors, sends heartbeats, charges at random and answers the
Central System from its own state; every OCPP call is a Locust request (type: the protocol,
name: the action, failure: the OCPP error code).

    locust -f $(ocppsim fleet --locustfile) --host ws://127.0.0.1:9000/ocpp --protocol ocpp1.6

docs/fleet.md lists the fleet's options (Locust's `--help` does not show a locustfile's); the
web UI shows them under Custom parameters. To change what a Charge Point does, subclass
`ocppsim.locust.user.ChargePointUser` in a locustfile of your own.
"""

from ocppsim.locust.user import ChargePointUser

__all__ = ["ChargePointUser"]
