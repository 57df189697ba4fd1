"""ocppsim: an interactive OCPP 1.2/1.5 Central System and Charge Point simulator."""

__version__ = "0.1.0"
